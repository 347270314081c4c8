/**
 * Constants of the float32 format that the library's clamps and tolerances are written in terms
 * of: one definition, in the lowest layer, for every folder.
 */

/**
 * float32's machine epsilon, the gap between 1 and the next float32 (`torch.finfo(float32).eps`,
 * `numpy.finfo(np.float32).eps`):
 *
 * $$\epsilon_{32} = 2^{-23} = 1.1920928955078125 \times 10^{-7}$$
 */
export const FLOAT32_EPS = 2 ** -23;

/**
 * The smallest normal float32 (`torch.finfo(float32).tiny`, `numpy.finfo(np.float32).tiny`),
 * the lower clamp of draws that must stay strictly positive:
 *
 * $$\text{tiny}_{32} = 2^{-126} \approx 1.1754943508222875 \times 10^{-38}$$
 */
export const FLOAT32_TINY = 2 ** -126;
