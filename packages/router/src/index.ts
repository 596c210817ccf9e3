export {
  type ArmBackends,
  createRouterChooser,
  type RouterChooser,
  RouterChooserError,
  type RouterChooserOptions,
  routingRecordId,
  type ServedDecision,
  servingArm,
} from './chooser.js';
export {
  ARMS,
  type ArmCost,
  type ArmId,
  armId,
  type CostModel,
  costModel,
  DEFAULT_COST_MODEL,
  estimateTokens,
  expectedCost,
} from './cost.js';
export {
  type Dataset,
  type Example,
  effortFromLevel,
  effortFromOutcomes,
  parseRows,
  RouterDataError,
  type RouterRow,
  readDataset,
  splitOf,
  toExamples,
} from './data.js';
export {
  type CrossValidatedPredictions,
  type CrossValidateOptions,
  crossValidatedPredictions,
  crossValidateRouter,
  type EvalOptions,
  type EvalReport,
  evaluateRouter,
  foldOf,
  formatEvalReport,
} from './evaluate.js';
export {
  DEFAULT_FEATURE_SPEC,
  DENSE_FEATURES,
  type FeatureSpec,
  type Features,
  featurize,
} from './features.js';
export { fnv1a, mulberry32 } from './hash.js';
export {
  LLM_ROUTER_INSTRUCTIONS,
  type LlmRouteAnswer,
  type LlmRouterBackendOptions,
  type LlmRouterFn,
  llmRouterFromBackend,
  lowEffortCall,
  parseLlmRouteAnswer,
} from './llm-router.js';
export {
  accuracyOf,
  apgrOf,
  aurocOf,
  binaryRoutingMetrics,
  type CurvePoint,
  callPerformanceCurve,
  confusionMatrix,
  cptOf,
  type RoutingOutcome,
} from './metrics.js';
export { defaultModel, EFFORTS, type Prediction, RouterModel } from './model.js';
export {
  isReasoningPrompt,
  type RouteOptions,
  type RouteResult,
  Router,
  type RouterPolicy,
  RouterPolicyError,
} from './policy.js';
export {
  type ArmPrice,
  costsFromPrices,
  createRoutedBackend,
  type PriceTable,
  parseRouteFlag,
  type RouteConfig,
  RouteConfigError,
  type RoutedBackendOptions,
  readPriceTable,
  routeConfigFrom,
} from './route-config.js';
export { type TrainOptions, type TrainResult, trainRouter, trainRouterOnExamples } from './train.js';
export {
  createTriage,
  type Specialist,
  type Triage,
  type TriageCaller,
  TriageConfigError,
  type TriageDecision,
  type TriageEvent,
  type TriageModelCall,
  type TriageOptions,
  type TriageResult,
  type TriageRunOptions,
  triageRecordId,
  triageText,
} from './triage.js';
export {
  DEFAULT_WEIGHTS_PATH,
  defaultWeights,
  RouterWeightsError,
  readWeightsFile,
  validateWeights,
  type WeightsFile,
} from './weights.js';
