"""Cache prefetch hints for the compiled kernels (``llvm.prefetch``; results are unchanged).

The skip-gram tables are tens of MB, larger than the caches, so the rows a kernel is about
to touch (the next centre's output rows, the word entering the window) are often in main
memory. A hint issued one centre ahead lets the memory system fetch them while the current
centre's pairs are computed.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_FLOATS_PER_LINE = 16  # 64-byte cache lines of float32


@intrinsic
def _prefetch_element(typingctx: Any, array: Any, row: Any, col: Any) -> Any:
    """Hint that ``array[row, col]`` will be read soon (no effect on results)."""
    ok = (
        isinstance(array, types.Array)
        and array.ndim == 2
        and isinstance(row, types.Integer)
        and isinstance(col, types.Integer)
    )
    if not ok:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type, row_type, col_type = signature.args
        view = context.make_array(array_type)(context, builder, args[0])
        index = [
            context.cast(builder, args[1], row_type, types.intp),
            context.cast(builder, args[2], col_type, types.intp),
        ]
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, index)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # read (0), keep in all cache levels (3), data cache (1)
        builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, row, col), codegen


@numba.njit(inline="always", cache=True)
def prefetch_row(array: np.ndarray, row: int) -> None:  # pragma: no cover - jitted
    """Hint every cache line of ``array[row]`` (a 2-D float32 table) into the caches."""
    for col in range(0, array.shape[1], _FLOATS_PER_LINE):
        _prefetch_element(array, row, col)  # type: ignore[call-arg]  # typingctx is numba's
