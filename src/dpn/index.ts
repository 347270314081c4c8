/**
 * Deep probabilistic networks (MindSpore's `nn.probability.dpn`): the variational auto-encoder
 * and its label-conditioned variant. Train them with `infer.ELBO` and `infer.SVI`.
 *
 * @module
 */
export { VAE, VAEBase, type VAEOutput, type VAEOptions, type ProbabilisticNetwork } from './vae.js';
export { ConditionalVAE } from './conditional_vae.js';
export { applyNetwork, networkVariables, disposeNetwork, type Network } from './network.js';
