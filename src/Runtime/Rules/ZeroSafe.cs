using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// Square roots and quotients for update rules whose state can be exactly zero (an embedding row
/// that got no gradient, a first gradient of zeros). Forward values equal the plain operations';
/// what changes is the derivative there, which the hypergradient needs finite
/// (docs/ALGORITHM.md, "Zero gradients"): √x at x = 0 has derivative ∞, and ∞ · 0 is NaN in every
/// hypergradient that passes through it, though the true derivative is 0 (a state that stays 0
/// whatever λ is, or a row whose gradient is 0 for all nearby weights).
/// </summary>
internal static class ZeroSafe
{
    /// <summary>
    /// √x, equal to <c>x.sqrt()</c>; its derivative at x = 0 is 0. Untracked tensors take the plain
    /// square root, so only tracked steps pay for the two masks.
    /// </summary>
    public static Tensor Sqrt(Tensor x)
    {
        if (!x.requires_grad) return x.sqrt();
        var zero = x.eq(0);
        // The inner fill keeps √ away from 0, so no ∞ enters the backward pass; the outer one restores √0 = 0.
        return x.masked_fill(zero, 1).sqrt().masked_fill(zero, 0);
    }

    /// <summary>
    /// numerator / denominator where the denominator is not zero, and whether it was; elsewhere
    /// the quotient is numerator / 1, for the caller to replace (a reference implementation skips
    /// the step there), with no ∞ in either value or derivative.
    /// </summary>
    public static (Tensor Quotient, Tensor Defined) Divide(Tensor numerator, Tensor denominator)
    {
        var defined = denominator.ne(0);
        return (numerator / denominator.masked_fill(defined.logical_not(), 1), defined);
    }
}
