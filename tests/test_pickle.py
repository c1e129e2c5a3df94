"""A result sent to another process: pickled and copied whole."""

from __future__ import annotations

import pytest

import symparams


@pytest.mark.parametrize("mode", ["exact", "ideal"])
@pytest.mark.parametrize("text", ["I(28,28,1)-C(8,3)-P(2)-O(10)",
                                  "I(h,w,3)-C(8,3,p=1)-[BN-relu | id]*2-A(2)-GAP-O(10)",
                                  "I(t,64)-[MHA(8,window=W)+id]*L-LN"])
def test_a_network_survives_pickle_and_deepcopy(text, mode):
    """A result goes to other processes (multiprocessing, joblib caches): its figures
    left for later are pickled worked out, its rows' arguments (registry.Args) whole."""
    import copy
    import pickle

    from symparams.report.data import to_json
    from symparams.report.text import table

    net = symparams.parse(text, mode=mode)
    for other in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert table(other) == table(net) and to_json(other) == to_json(net)
        assert (other.macs, other.saved, other.kv_cache) == (net.macs, net.saved, net.kv_cache)
        assert [dict(r.args) for r in other.walk()] == [dict(r.args) for r in net.walk()]
