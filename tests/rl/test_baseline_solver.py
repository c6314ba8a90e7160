"""The linear baseline's solver on systems that broke batched LU (issue 14), with 1 and 2
torch threads. MKL's failure depends on the CPU, so these tests check the answers, not that
the old crash is reproduced."""

from pathlib import Path

import numpy as np
import pytest
import torch

from rlmaml.rl.baseline import solve_ridge

REGRESSION_BATCH = Path(__file__).resolve().parents[3] / "shared/data/regressions/ant_dir_gram_batch.npz"


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request):
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


def synthetic_grams(num_tasks: int = 40, rows: int = 4000, features: int = 218, zero_columns: int = 18):
    """Gram matrices of standard-normal features whose last columns are zero (rank-deficient)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(num_tasks, rows, features, generator=gen, dtype=torch.float64)
    x[..., features - zero_columns :] = 0.0
    y = torch.randn(num_tasks, rows, 1, generator=gen, dtype=torch.float64)
    return x.transpose(1, 2) @ x, x.transpose(1, 2) @ y


def reference(gram: torch.Tensor, moment: torch.Tensor, reg: float) -> np.ndarray:
    """Task by task in numpy: the ridge solution, or the minimum-norm one without a ridge."""
    eye = np.eye(gram.shape[-1])
    if reg == 0.0:
        return np.stack(
            [np.linalg.lstsq(g, m, rcond=None)[0] for g, m in zip(gram.numpy(), moment.numpy(), strict=True)]
        )
    return np.stack([np.linalg.solve(g + reg * eye, m) for g, m in zip(gram.numpy(), moment.numpy(), strict=True)])


@pytest.mark.skipif(not REGRESSION_BATCH.is_file(), reason="../shared/data/regressions is not beside the checkout")
def test_the_ant_dir_batch_that_broke_lu_is_solved(threads):
    data = np.load(REGRESSION_BATCH, allow_pickle=False)
    gram, moment = torch.from_numpy(data["gram_plus_ridge"]), torch.from_numpy(data["moment"])
    coeffs = solve_ridge(gram, moment, reg_coeff=0.0, max_tries=5)
    assert torch.isfinite(coeffs).all()
    residual = (gram @ coeffs - moment).abs().amax(dim=(1, 2)) / moment.abs().amax(dim=(1, 2))
    assert residual.max() < 1e-8


@pytest.mark.parametrize("reg", [1e-5, 0.0])
def test_rank_deficient_grams_get_the_ridge_or_minimum_norm_solution(threads, reg):
    gram, moment = synthetic_grams()
    coeffs = solve_ridge(gram, moment, reg_coeff=reg, max_tries=5)
    expected = reference(gram, moment, reg)
    np.testing.assert_allclose(coeffs.numpy(), expected, rtol=1e-6, atol=1e-9)
    if reg == 0.0:
        assert (coeffs[:, -18:] == 0).all()  # the minimum-norm solution puts no weight on zero features


def test_badly_scaled_features_are_solved(threads):
    gen = torch.Generator().manual_seed(1)
    scales = torch.logspace(-4, 4, 30, dtype=torch.float64)
    x = torch.randn(6, 500, 30, generator=gen, dtype=torch.float64) * scales
    y = torch.randn(6, 500, 1, generator=gen, dtype=torch.float64)
    gram, moment = x.transpose(1, 2) @ x, x.transpose(1, 2) @ y
    coeffs = solve_ridge(gram, moment, reg_coeff=1e-5, max_tries=5)
    assert torch.isfinite(coeffs).all()
    fitted, best = x @ coeffs, x @ torch.from_numpy(reference(gram, moment, 1e-5))
    np.testing.assert_allclose(fitted.numpy(), best.numpy(), rtol=1e-5, atol=1e-8)


def test_non_finite_tasks_get_zeros_and_leave_the_others_bit_for_bit(threads):
    gram, moment = synthetic_grams(num_tasks=5, rows=300, features=20, zero_columns=3)
    clean = solve_ridge(gram, moment, reg_coeff=1e-5, max_tries=5)
    gram[1, 2, 2] = float("nan")
    moment[3, 0, 0] = float("inf")
    coeffs = solve_ridge(gram, moment, reg_coeff=1e-5, max_tries=5)
    assert (coeffs[[1, 3]] == 0).all()
    assert torch.equal(coeffs[[0, 2, 4]], clean[[0, 2, 4]])


def test_a_matrix_cholesky_cannot_factor_gets_the_pseudo_inverse_of_its_positive_part(threads):
    """A Gram matrix is positive semi-definite: a negative eigenvalue is rounding, dropped."""
    gram = torch.diag(torch.tensor([2.0, -1.0, 0.0], dtype=torch.float64)).unsqueeze(0)
    moment = torch.tensor([[[4.0], [3.0], [5.0]]], dtype=torch.float64)
    coeffs = solve_ridge(gram, moment, reg_coeff=1e-5, max_tries=3)
    torch.testing.assert_close(coeffs, torch.tensor([[[2.0], [0.0], [0.0]]], dtype=torch.float64))
