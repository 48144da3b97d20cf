r"""The width schedule of the delay kernels: wide at first, shrinking to sub-step resolution."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SigmaSchedule"]


@dataclass(frozen=True)
class SigmaSchedule:
    r"""Kernel width per epoch: an exponential decay of :math:`\sigma - c` over the first ``epochs``.

    .. math::
        \sigma(e) = c + (\sigma_0 - c)\left(\frac{\sigma_1 - c}{\sigma_0 - c}\right)^{\min(e, E)/E}

    The official code (``decrease_sig`` in SNN-delays ``snn_delays.py``) multiplies dcls's ``SIG``
    (:math:`\sigma = SIG + c`, :math:`c = 0.27` for the Gaussian) by
    :math:`\alpha = (0.23 / SIG_0)^{1/E}` after each of the first :math:`E = ` ``epochs // 4``
    epochs, from :math:`SIG_0 = \lfloor K/2 \rfloor`: :math:`\sigma` goes from
    :math:`\lfloor K/2 \rfloor + 0.27` to 0.5 and stays there. Epoch ``e`` (0-based) trains with
    :math:`\sigma(e)`; we compute the power directly instead of accumulating products.

    Args:
        kernel_size: K.
        epochs: E, the decay length in epochs (0: ``sigma_final`` from the start).
        sigma_init: :math:`\sigma_0` (default ``K // 2 + offset``).
        sigma_final: :math:`\sigma_1` (default 0.5).
        offset: :math:`c` (default 0.27, dcls's Gaussian; 1.0 matches its triangle), ``0 <= c < sigma_final``.

    A start at or below ``sigma_final`` (K <= 1) gives ``sigma_final`` throughout.

    Example:
        >>> s = SigmaSchedule(kernel_size=25, epochs=37)
        >>> round(s(0), 2), round(s(37), 2), round(s(100), 2)
        (12.27, 0.5, 0.5)
    """

    kernel_size: int
    epochs: int
    sigma_init: float | None = None
    sigma_final: float = 0.5
    offset: float = 0.27

    def __post_init__(self) -> None:
        fn = "SigmaSchedule"
        if isinstance(self.kernel_size, bool) or not isinstance(self.kernel_size, int) or self.kernel_size < 1:
            raise ValueError(f"{fn}: kernel_size must be an int >= 1 (got {self.kernel_size!r})")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 0:
            raise ValueError(f"{fn}: epochs must be an int >= 0 (got {self.epochs!r})")
        if not self.offset >= 0 or not self.sigma_final > self.offset:
            raise ValueError(
                f"{fn}: need 0 <= offset < sigma_final (got offset={self.offset}, sigma_final={self.sigma_final})"
            )
        if self.sigma_init is not None and not self.sigma_init > 0:
            raise ValueError(f"{fn}: sigma_init must be > 0 (got {self.sigma_init})")

    @property
    def start(self) -> float:
        return float(self.kernel_size // 2 + self.offset) if self.sigma_init is None else float(self.sigma_init)

    def __call__(self, epoch: int) -> float:
        """:math:`\\sigma` for training epoch ``epoch`` (0-based, >= 0)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"SigmaSchedule: epoch must be an int >= 0 (got {epoch!r})")
        a, b, c = self.start - self.offset, self.sigma_final - self.offset, self.offset
        if self.epochs == 0 or a <= b:  # nothing to decay (e.g. K = 1, whose width does not matter)
            return self.sigma_final
        return c + a * (b / a) ** (min(epoch, self.epochs) / self.epochs)
