"""One line that names the fix when a dependency is missing, instead of a traceback.

torch, torchrec and fbgemm are installed in a particular way (README "Install" is the one
place that says how and why), so a pip user can easily end up without one of them; these
lines name the command and point there.

>>> install_hint("torchrec")
'torchrec is not installed — pip install --no-deps torchrec==1.8.0 (see README "Install")'
>>> install_hint("fastapi.responses")
'fastapi is not installed — pip install "embedrec[serve]" (see README "Install")'
>>> install_hint("yaml") is None
True
"""

from __future__ import annotations

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_SEE = '(see README "Install")'
_DEVICE_EXTRA = 'pip install "embedrec[cpu]" (or "embedrec[cuda]" with CUDA)'
_SERVE = 'pip install "embedrec[serve]"'

# Top-level import name → (distribution the user knows, the command that installs it).
_FIXES: dict[str, tuple[str, str]] = {
    "torch": ("torch", f"pip install torch==2.13.0 --index-url {TORCH_CPU_INDEX}"),
    "torchrec": ("torchrec", "pip install --no-deps torchrec==1.8.0"),
    "fbgemm_gpu": ("fbgemm-gpu", _DEVICE_EXTRA),
    "faiss": ("faiss", _DEVICE_EXTRA),
    "fastapi": ("fastapi", _SERVE),
    "uvicorn": ("uvicorn", _SERVE),
    "httptools": ("httptools", _SERVE),
    "uvloop": ("uvloop", _SERVE),
    "httpx": ("httpx", _SERVE),
    "orjson": ("orjson", _SERVE),
    "prometheus_client": ("prometheus-client", _SERVE),
    "swagger_ui_bundle": ("swagger-ui-bundle", _SERVE),
    "matplotlib": ("matplotlib", 'pip install "embedrec[plot]"'),
}


def install_hint(module: str | None) -> str | None:
    """The one-line fix for a missing ``module`` (a dotted name is fine), or None if unknown."""
    if not module:
        return None
    fix = _FIXES.get(module.split(".")[0])
    if fix is None:
        return None
    distribution, command = fix
    return f"{distribution} is not installed — {command} {_SEE}"
