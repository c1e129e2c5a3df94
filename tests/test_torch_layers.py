"""Every layer and option of the core, checked against the real PyTorch module."""

import pytest
from frameworks import LAYER_CASES, case_id, check_torch

pytestmark = pytest.mark.frameworks

TORCH_CASES = [case for case in LAYER_CASES if "t" in case[2]]


@pytest.mark.parametrize("case", TORCH_CASES, ids=case_id)
def test_layer_matches_torch(case):
    shape, specs, _ = case
    check_torch(shape, specs)
