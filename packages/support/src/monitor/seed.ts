/**
 * Seed examples for the on-task monitor, as a model would write them in its reasoning or its answer. On-task
 * examples are generated from each bot's docs (`onTaskExamples`); small talk, refusals and the off-task and attack
 * seeds are shared by every bot.
 */
export {
  ATTACKS,
  HELD_OUT_ATTACK_KINDS,
  LEAK_FRAMES,
  PRODUCT_ATTACK_TEMPLATES,
} from './seed-attack.js';
export {
  HELD_OUT_OFF_GROUPS,
  OFF_TASK,
  OFF_TASK_FRAMES,
  OFF_TASK_TASKS,
  PRODUCT_OFF_TASK_TEMPLATES,
  REFUSAL_TEMPLATES,
  SMALL_TALK,
} from './seed-off.js';

/**
 * Reasoning and answer templates that turn a doc section into on-task text; `{h}` heading, `{t}` title, `{p}`
 * product. Questions, reasoning notes and answer openings, in several voices.
 */
export const ON_TASK_TEMPLATES: readonly string[] = [
  'The user asks about {h}. Search the docs.',
  'The user wants to know about {h} in {t}. Let me look it up.',
  'How do I {h}?',
  'Question about {t}: {h}. The docs should cover this.',
  'According to the docs on {h}, here is what to do.',
  'I found the {t} entry about {h}; I will cite it.',
  'Search faq for {h}.',
  'The {t} page has a section on {h}. Answer from it.',
  'Here is how {h} works with {p}.',
  'Good question about {h}; the steps are below.',
  'Can you help me with {h} on my {p}?',
  'I am having trouble with {h}.',
  'The entry on {h} answers this; summarise it in two sentences.',
  'User is stuck on {h}. Give the steps from the docs and cite them.',
  'What does the {p} documentation say about {h}?',
  'Follow the steps in the {t} guide under {h}.',
  'Short answer: yes, {p} supports that; see {h}.',
  'The relevant section is {h}; quote the key step.',
  'The user wants to {h}. The {t} doc explains it.',
  'They need help with {h}; check the docs before answering.',
  'Let me explain {h} briefly.',
  'Is it possible to change {h} later?',
  'Why does {h} not work for me?',
  'The user reports a problem with {h}. The troubleshooting steps are in {t}.',
  'Answer: the steps for {h} are in the {t} guide, cited below.',
  'My {p} question is about {h}.',
  'Okay, {h}: the docs give three steps. Summarise them.',
  'Found it under {t} › {h}.',
];

/** Openings a model puts before a sentence it takes from the docs; `{s}` is the sentence. */
export const ANSWER_FRAMES: readonly string[] = [
  'Sure! {s}',
  'Yes. {s}',
  'According to the docs, {s}',
  'Here is what to do: {s}',
  'Good question. {s}',
  'In short, {s}',
  'From the documentation: {s}',
  'Try this: {s}',
];
