export {
  type CloudOps,
  checkRule,
  cloudTools,
  createSupportDesk,
  DOCS_DIR,
  SPECIALISTS,
  type SpecialistName,
  type SupportDesk,
  type SupportDeskOptions,
  searchDocs,
} from './desk.js';
