"""core.memo: lookups memoised inside a batch block, computed afresh outside it."""

from dandelion.core.memo import batch_memo, memoized


def test_memoized_only_inside_a_batch_block():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert memoized("k", compute) == 1 and memoized("k", compute) == 2  # no block: every call computes
    with batch_memo():
        assert memoized("k", compute) == 3
        assert memoized("k", compute) == 3
        with batch_memo():  # nested blocks share the outer memo
            assert memoized("k", compute) == 3
        assert memoized("other", compute) == 4
    assert memoized("k", compute) == 5  # nothing kept past the block
