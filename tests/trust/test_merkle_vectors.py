"""civic/trust/merkle.py against every public transparency-dev test vector (tests/trust/vectors/).

Each file is one case: a correct verifier accepts every `wantErr: false` case and rejects every
`wantErr: true` one; the happy paths must also be what our own proof builders produce.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from civic.trust import merkle

VECTORS = Path(__file__).parent / "vectors"
LEAVES = json.loads((VECTORS / "leaves-and-roots.json").read_text())
LEAF_INPUTS = [bytes.fromhex(h) for h in LEAVES["leaf_inputs_hex"]]
LEAF_HASHES = [merkle.leaf_hash(d) for d in LEAF_INPUTS]


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(case: dict) -> list[bytes]:
    return [_b64(p) for p in case["proof"] or []]


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def test_there_are_all_the_vectors():
    assert len(_cases("inclusion")) == 98
    assert len(_cases("consistency")) == 98


@pytest.mark.parametrize("path", _cases("inclusion"), ids=_id)
def test_inclusion_vector(path: Path):
    case = json.loads(path.read_text())
    ok = merkle.verify_inclusion(
        case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), _proof(case), _b64(case["root"])
    )
    assert ok is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("path", _cases("consistency"), ids=_id)
def test_consistency_vector(path: Path):
    case = json.loads(path.read_text())
    ok = merkle.verify_consistency(
        case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), _proof(case)
    )
    assert ok is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("size", range(len(LEAVES["root_hashes_hex_by_size"])))
def test_roots_of_the_reference_leaves(size: int):
    assert merkle.root(LEAF_HASHES[:size]).hex() == LEAVES["root_hashes_hex_by_size"][size]


@pytest.mark.parametrize(
    "path",
    [p for p in _cases("inclusion") if p.name == "happy-path.json" and p.parent.name.isdigit()],
    ids=_id,
)
def test_our_inclusion_proofs_are_the_reference_ones(path: Path):
    case = json.loads(path.read_text())
    leaves = LEAF_HASHES[: case["treeSize"]]
    assert leaves[case["leafIdx"]] == _b64(case["leafHash"])
    assert merkle.inclusion_proof(case["leafIdx"], leaves) == _proof(case)
    assert merkle.root(leaves) == _b64(case["root"])


@pytest.mark.parametrize(
    "path",
    [p for p in _cases("consistency") if p.name == "happy-path.json" and p.parent.name.isdigit()],
    ids=_id,
)
def test_our_consistency_proofs_are_the_reference_ones(path: Path):
    case = json.loads(path.read_text())
    leaves = LEAF_HASHES[: case["size2"]]
    assert merkle.consistency_proof(case["size1"], leaves) == _proof(case)
    assert merkle.root(leaves[: case["size1"]]) == _b64(case["root1"])
    assert merkle.root(leaves) == _b64(case["root2"])
