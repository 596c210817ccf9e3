export {
  DEFAULT_LIMITS,
  LABEL,
  LABEL_OWNER,
  LABEL_SESSION,
  type SandboxLimits,
} from './container.js';
export { PythonSandboxError } from './errors.js';
export { formatResult } from './format.js';
export {
  type BuildImageOptions,
  type BuildImageResult,
  buildImage,
  defaultImageTag,
  IMAGE_REPOSITORY,
  imageExists,
} from './image.js';
export { KERNEL_SOURCE } from './kernel.js';
export { type PythonRunResult, PythonSandbox, type PythonSandboxOptions } from './sandbox.js';
export { createPythonTool, type PythonTool, type PythonToolOptions, pythonConfig } from './tool.js';
