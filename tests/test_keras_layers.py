"""Every layer and option of the core, checked against the real Keras 3 layer."""

import pytest
from frameworks import LAYER_CASES, case_id, check_keras

pytestmark = pytest.mark.frameworks

KERAS_CASES = [case for case in LAYER_CASES if "k" in case[2]]


@pytest.mark.parametrize("case", KERAS_CASES, ids=case_id)
def test_layer_matches_keras(case):
    shape, specs, _ = case
    check_keras(shape, specs)
