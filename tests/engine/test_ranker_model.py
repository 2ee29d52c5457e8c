"""The ranker network: its loss, its towers, the exported model and explanations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ranker_fixtures import ranker_world

from embedrec.core.artifacts import read_manifest
from embedrec.engine.ranker.batches import load_examples, make_batch
from embedrec.engine.ranker.eval import evaluate_ranker
from embedrec.engine.ranker.explain import explain_rows
from embedrec.engine.ranker.inference import Ranker
from embedrec.engine.ranker.model import (
    _log1mexp,
    click_loss,
    click_probability,
    doc_tower,
    query_tower,
    retrieval_loss,
)
from embedrec.pipelines.clicks.dataset import open_click_dataset


def test_click_loss_is_the_cross_entropy_of_examined_times_relevance():
    gen = torch.Generator().manual_seed(0)
    relevance = torch.randn(64, generator=gen) * 4
    log_examined = -torch.rand(64, generator=gen) * 3
    log_examined[:8] = 0.0  # unknown positions: no factor
    labels = (torch.rand(64, generator=gen) < 0.3).float()
    p = torch.exp(log_examined) * torch.sigmoid(relevance)
    expected = -(labels * torch.log(p) + (1 - labels) * torch.log(1 - p)).sum()
    got = click_loss(relevance, log_examined, labels)
    assert torch.allclose(got, expected, rtol=1e-5)
    assert torch.allclose(click_probability(relevance, log_examined), p, rtol=1e-5)


def test_retrieval_loss_is_an_in_batch_softmax_with_logq_and_no_self_negatives():
    gen = torch.Generator().manual_seed(1)
    query, doc = torch.randn(5, 4, generator=gen), torch.randn(5, 4, generator=gen)
    doc_ids = torch.tensor([7, 3, 7, 9, 2])
    log_q = torch.log(torch.tensor([0.2, 0.1, 0.2, 0.3, 0.2]))
    labels = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0])
    got = retrieval_loss(query, doc, doc_ids, log_q, labels)
    expected = 0.0
    for i in (0, 2):  # the clicked rows; rows 0 and 2 show the same doc: not each other's negative
        others = [j for j in range(5) if j == i or doc_ids[j] != doc_ids[i]]
        logits = torch.stack([query[i] @ doc[j] - log_q[j] for j in others])
        expected -= torch.log_softmax(logits, 0)[others.index(i)]
    assert torch.allclose(got, expected, rtol=1e-5)
    assert retrieval_loss(query, doc, doc_ids, log_q, torch.zeros(5)).item() == 0.0


def test_log1mexp_is_stable_at_both_ends():
    x = torch.tensor([-1e-9, -1e-4, -0.5, -0.7, -5.0, -50.0], dtype=torch.float64)
    got = _log1mexp(x)
    assert torch.isfinite(got).all()
    assert torch.allclose(got[1:], torch.log(-torch.expm1(x[1:])), rtol=1e-6)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return ranker_world(tmp_path_factory)


@pytest.fixture(scope="module")
def ranker(world):
    return Ranker.load(world.model)


def test_exported_model_scores_what_the_sharded_one_validated(world):
    trained = read_manifest(world.model)["validation"]
    report = evaluate_ranker(world.model, world.old, baselines=False)
    assert report["with_position"]["auc"] == pytest.approx(trained["auc"], abs=1e-5)
    assert report["with_position"]["log_loss"] == pytest.approx(trained["log_loss"], abs=1e-5)


def test_towers_match_the_exported_query_and_doc_vectors(world, ranker):
    examples = load_examples(open_click_dataset(world.old), ranker.spec, ranker.vocabs, "train")
    rows = np.arange(0, 2000, 37)
    batch = make_batch(examples, rows, ranker.spec)
    with torch.no_grad():
        vectors = ranker.model.embeddings(batch.features, batch.dense)
        query, doc = query_tower(vectors).numpy(), doc_tower(vectors).numpy()
    doc_ids = examples.ids["doc"][rows]
    np.testing.assert_allclose(ranker.doc_vectors(doc_ids), doc, rtol=1e-4, atol=1e-5)
    tokens, offsets = examples.bags["query"]
    encoding = ranker.encode_query("")
    for i, row in enumerate(rows[:10].tolist()):
        ids = tokens[offsets[row] : offsets[row + 1]]
        q = ranker.query_vector(type(encoding)(text="", tokens=[], ids=ids, unknown=[]))
        np.testing.assert_allclose(q, query[i], rtol=1e-4, atol=1e-5)
    exported = np.load(world.model / "doc_embeddings" / "embeddings.npy")
    np.testing.assert_allclose(exported, ranker.doc_vectors(ranker.catalog.ids), rtol=1e-5)


def test_position_term_is_learned_and_left_out_for_unknown_positions(ranker):
    positions = torch.arange(0, 12)
    log_examined = ranker.model.log_examined(positions)
    assert log_examined[0].item() == 0.0
    examined = torch.exp(log_examined[1:11])
    assert examined[0] > examined[4] > examined[9]  # top positions are looked at more


def test_explanations_are_logit_differences_against_unknown_groups(ranker):
    catalog = ranker.catalog
    encoding = ranker.encode_query(" ".join(ranker.vocabs["query_token"].values[5:7]))
    doc_ids = catalog.ids[:6]
    examples = ranker.examples(encoding, doc_ids, {"device": "mobile"})
    contributions = explain_rows(ranker.model, examples, ranker.spec)
    assert set(contributions) == {"query", "title", "doc", "device", "region"}
    np.testing.assert_array_equal(contributions["region"], 0.0)  # not given: already unknown
    full, _ = ranker.score(examples)
    without = make_batch(examples, np.arange(6), ranker.spec, missing=frozenset({"doc"}))
    with torch.no_grad():
        vectors = ranker.model.embeddings(without.features, without.dense)
        expected = full - ranker.model.relevance(vectors).double().numpy()
    np.testing.assert_allclose(contributions["doc"], expected, rtol=1e-5, atol=1e-6)
    assert np.abs(contributions["query"]).max() > 0.01
