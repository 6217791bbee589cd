import numpy as np
import pytest

from sklearn_asd.utils import check_outlier_mask, split_outliers


def test_split_outliers_keeps_rows_and_columns_together():
    X = np.arange(10).reshape(5, 2)
    mask = np.array([False, True, False, True, False])
    normal, outliers = split_outliers(
        mask, X, y=["a", "x", "b", "y", "c"], section=None, domain=np.array(list("stsst"))
    )
    np.testing.assert_array_equal(normal.X, X[[0, 2, 4]])
    np.testing.assert_array_equal(outliers, X[[1, 3]])
    assert list(normal.y) == ["a", "b", "c"] and normal.section is None
    assert list(normal.domain) == ["s", "s", "t"]


@pytest.mark.parametrize("mask", [None, np.zeros(3, dtype=bool)])
def test_split_outliers_without_outliers_returns_the_very_objects(mask):
    X, y = np.ones((3, 2)), ["a", "b", "c"]
    normal, outliers = split_outliers(mask, X, y=y)
    assert normal.X is X and normal.y is y and outliers.shape == (0, 2)


def test_check_outlier_mask_refuses_what_is_not_a_mask():
    assert not check_outlier_mask(None, 3, caller="T").any()
    with pytest.raises(ValueError, match="boolean mask"):
        check_outlier_mask(["yes", "no", "no"], 3, caller="T")
    with pytest.raises(ValueError, match="every training clip is marked"):
        check_outlier_mask(np.ones(3, dtype=bool), 3, caller="T")
