export { EmbeddedMonitor, type EmbeddedMonitorOptions, loadMonitorModel } from './embedded.js';
export {
  DEFAULT_RUBRIC,
  DiscardingStore,
  ModelMonitor,
  type ModelMonitorOptions,
  parseVerdict,
} from './judge.js';
export { Domain, type DomainSources, MonitorModel, type MonitorModelJSON, type Prototypes } from './model.js';
export {
  ANSWER_FRAMES,
  ATTACKS,
  HELD_OUT_ATTACK_KINDS,
  HELD_OUT_OFF_GROUPS,
  LEAK_FRAMES,
  OFF_TASK,
  OFF_TASK_FRAMES,
  OFF_TASK_TASKS,
  ON_TASK_TEMPLATES,
  PRODUCT_ATTACK_TEMPLATES,
  PRODUCT_OFF_TASK_TEMPLATES,
  REFUSAL_TEMPLATES,
  SMALL_TALK,
} from './seed.js';
export { plain, sentences, words } from './text.js';
export {
  buildDataset,
  type DatasetDomain,
  domainSources,
  type ExampleLabel,
  type Metrics,
  type MonitorExample,
  onTaskExamples,
  readDocSections,
  type TrainOptions,
  trainMonitor,
} from './train.js';
export { answerGuardrailOf, reasoningMonitorOf, type TopicMonitor } from './types.js';
export { WordVectors } from './vectors.js';
