import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Agent,
  type Backend,
  type BackendChooser,
  type ConversationStore,
  defineFunction,
  type FunctionTool,
  InMemoryConversationStore,
} from '@harmonia/core';
import { createTriage, type Specialist, type Triage, type TriageModelCall } from '@harmonia/router';
import { z } from 'zod';

/** The one docs set every specialist reads. */
export const DOCS_DIR = fileURLToPath(new URL('../docs/', import.meta.url));

interface Section {
  doc: string;
  title: string;
  text: string;
}

function sections(dir: string): Section[] {
  const out: Section[] = [];
  for (const doc of readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    let title = doc;
    let text = '';
    const flush = () => {
      if (text.trim()) out.push({ doc, title, text: text.trim() });
      text = '';
    };
    for (const line of readFileSync(join(dir, doc), 'utf8').split('\n')) {
      const h = /^#+\s+(.*)/.exec(line);
      if (h) {
        flush();
        title = h[1] as string;
      } else text += `${line}\n`;
    }
    flush();
  }
  return out;
}

/** `functions.search_docs`: keyword search over the docs set (the same for every specialist). */
export function searchDocs(dir = DOCS_DIR): FunctionTool {
  const all = sections(dir);
  return defineFunction({
    name: 'search_docs',
    description: 'Searches the Warden docs; returns the best matching sections with their document.',
    parameters: z.object({ query: z.string().describe('What to look for') }),
    execute: ({ query }) => {
      const words = query.toLowerCase().match(/[a-z0-9_]{3,}/g) ?? [];
      const scored = all
        .map((s) => {
          const hay = `${s.title} ${s.text}`.toLowerCase();
          return { s, score: words.filter((w) => hay.includes(w)).length };
        })
        .filter((x) => x.score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, 3);
      return { text: JSON.stringify(scored.map(({ s }) => ({ doc: s.doc, title: s.title, text: s.text }))) };
    },
  });
}

/** `functions.check_rule`: validates a rule's YAML shape (read-only). */
export function checkRule(): FunctionTool {
  return defineFunction({
    name: 'check_rule',
    description: 'Checks a Warden rule written in YAML and lists the problems found.',
    parameters: z.object({ yaml: z.string() }),
    execute: ({ yaml }) => {
      const problems: string[] = [];
      if (yaml.includes('\t')) problems.push('tabs are not allowed in YAML');
      for (const field of ['name', 'action', 'direction'])
        if (!new RegExp(`^\\s*-?\\s*${field}\\s*:`, 'm').test(yaml)) problems.push(`missing '${field}'`);
      const action = /action\s*:\s*(\w+)/.exec(yaml)?.[1];
      if (action && !['allow', 'deny', 'log'].includes(action)) problems.push(`unknown action '${action}'`);
      return { text: JSON.stringify({ ok: problems.length === 0, problems }) };
    },
  });
}

/** What the cloud specialist may do in the tenant: powerful, so only verified tenants reach it. */
export interface CloudOps {
  tenantLogs(sensor: string): Promise<string>;
  restartSync(sensor: string): Promise<string>;
}

export function cloudTools(ops: CloudOps): FunctionTool[] {
  return [
    defineFunction({
      name: 'read_tenant_logs',
      description: "Reads the tenant's sync and check-in logs for one sensor.",
      parameters: z.object({ sensor: z.string() }),
      execute: async ({ sensor }) => ({ text: await ops.tenantLogs(sensor) }),
    }),
    defineFunction({
      name: 'restart_policy_sync',
      description: 'Restarts policy sync for one sensor of the tenant.',
      parameters: z.object({ sensor: z.string() }),
      execute: async ({ sensor }) => ({ text: await ops.restartSync(sensor) }),
    }),
  ];
}

/** The three specialists: name, description and examples (what the triage classifier trains on). */
export const SPECIALISTS = {
  'os-config': {
    description:
      'Installing and configuring the Warden sensor on an operating system: Linux packages, systemd service, ' +
      'kernel modules, nftables or iptables backend, SELinux policy, Windows MSI and filtering driver, macOS ' +
      'system extension and MDM, proxy settings in sensor.conf, journald logs of the sensor.',
    examples: [
      'How do I install the sensor on Ubuntu 22.04?',
      'The warden-sensor service fails to start after a reboot on RHEL 9.',
      'systemctl says warden-sensor is inactive (dead).',
      'Which kernel version does the sensor need?',
      'Can I force the iptables backend instead of nftables?',
      'SELinux is blocking the sensor, what module do I load?',
      'The MSI installer fails on Windows Server 2019.',
      'macOS keeps asking to approve the system extension.',
      'How do I push sensor.conf with Group Policy?',
      'We are behind an HTTP proxy, where do I put it in the config?',
      'modprobe nf_tables fails on our minimal Debian image.',
      'Where are the sensor logs on Linux, journalctl?',
      'Does the sensor run on Alpine or only on glibc distributions?',
      'How do I uninstall the sensor cleanly from a CentOS host?',
    ],
    privilege: 0,
  },
  'rule-config': {
    description:
      'Writing and fixing Warden firewall rules: YAML rule files in rules.d, allow, deny and log actions, ports, ' +
      'protocols, CIDR ranges, rule priority and order, rule groups, shadowed rules, testing which rule matches ' +
      'a packet with warden rules test.',
    examples: [
      'How do I allow SSH only from 10.0.0.0/8?',
      'My deny rule blocks everything even though I have an allow rule for port 443.',
      'What does priority mean for rules, lower first?',
      'warden rules check says my YAML is invalid.',
      'How do I write a rule that logs outbound DNS traffic?',
      'A rule is reported as shadowed, what does that mean?',
      'Can I group rules so they share one priority band?',
      'Which rule matches a packet to port 22 from 10.0.0.5?',
      'How do I block all inbound traffic except HTTPS?',
      'Is UDP supported in the protocol field?',
      'I have overlapping CIDR ranges in two groups, which wins?',
      'Please fix this rule: action deny, direction in, ports 80.',
      'How do I deny outbound SMTP on port 25 for one subnet?',
      'Our catch-all deny rule is evaluated before the specific allows.',
    ],
    // check_rule only reads the text it is given: as harmless as the docs search.
    privilege: 0,
  },
  'cloud-debug': {
    description:
      'Debugging the Warden Cloud service: sensors offline or not checking in to the console, policy sync ' +
      'failures (409, 401 errors), expired enrollment tokens or API keys, tenant diagnostics logs, outages and ' +
      'the status page, clock skew breaking TLS to the cloud.',
    examples: [
      'The console shows my sensors as offline since this morning.',
      'sync failed: 409 on three hosts.',
      'Policy sync keeps failing with 401.',
      'Our enrollment token expired, sensors cannot register.',
      'Is Warden Cloud down? The console does not load.',
      'The last check-in of the sensor was two hours ago.',
      'Policy version in the console differs from what the host enforces.',
      'Where do I see the tenant diagnostics for sync attempts?',
      'TLS handshake to the cloud fails, could it be clock skew?',
      'Our API key was rotated and now nothing syncs.',
      'Is there an incident on the status page right now?',
      'Sensors check in but the console never shows the new policy.',
      'The dashboard has shown stale data for hours.',
      'New hosts never appear in the console after enrollment.',
    ],
    privilege: 1,
  },
} as const;

export type SpecialistName = keyof typeof SPECIALISTS;

export interface SupportDeskOptions {
  /** One backend for every specialist, or one per specialist. */
  backend: Backend | BackendChooser | Record<SpecialistName, Backend | BackendChooser>;
  /** Shared by every specialist (a handoff carries the conversation); default in memory. */
  store?: ConversationStore;
  cloud?: CloudOps;
  /** Optional low-effort model call for triage. */
  router?: TriageModelCall;
  docsDir?: string;
}

export interface SupportDesk {
  triage: Triage;
  agents: Record<SpecialistName, Agent>;
}

const INSTRUCTIONS: Record<SpecialistName, string> = {
  'os-config':
    'You help Warden customers install and configure the sensor on their operating systems. Search the docs before answering and cite the document.',
  'rule-config':
    'You help Warden customers write and fix firewall rules. Search the docs, check rules with check_rule, and cite the document.',
  'cloud-debug':
    "You debug the customer's Warden Cloud tenant: read its logs and restart policy sync when that fixes it. Search the docs and cite them.",
};

/** The support desk: three specialists over one docs set, behind a triage. */
export function createSupportDesk(options: SupportDeskOptions): SupportDesk {
  const store = options.store ?? new InMemoryConversationStore();
  const docs = searchDocs(options.docsDir);
  const cloud: CloudOps = options.cloud ?? {
    tenantLogs: async (s) => `${s}: last check-in 2 h ago; sync failed: 401 (API key expired)`,
    restartSync: async (s) => `${s}: policy sync restarted`,
  };
  const backendFor = (n: SpecialistName) =>
    'choose' in options.backend || 'kind' in options.backend
      ? (options.backend as Backend | BackendChooser)
      : (options.backend as Record<SpecialistName, Backend | BackendChooser>)[n];
  const tools: Record<SpecialistName, FunctionTool[]> = {
    'os-config': [docs],
    'rule-config': [docs, checkRule()],
    'cloud-debug': [docs, ...cloudTools(cloud)],
  };
  const agents = Object.fromEntries(
    (Object.keys(SPECIALISTS) as SpecialistName[]).map((n) => [
      n,
      new Agent({ backend: backendFor(n), instructions: INSTRUCTIONS[n], tools: tools[n], store }),
    ]),
  ) as Record<SpecialistName, Agent>;
  const specialists: Specialist[] = (Object.keys(SPECIALISTS) as SpecialistName[]).map((n) => ({
    name: n,
    description: SPECIALISTS[n].description,
    examples: SPECIALISTS[n].examples,
    agent: agents[n],
    privilege: SPECIALISTS[n].privilege,
    // Tenant logs and restarts: only callers the host has verified as belonging to the tenant.
    ...(n === 'cloud-debug'
      ? { allow: (c: { roles?: readonly string[] }) => !!c.roles?.includes('tenant') }
      : {}),
  }));
  const triage = createTriage({
    agents: specialists,
    defaultAgent: 'os-config',
    ...(options.router ? { router: options.router } : {}),
  });
  return { triage, agents };
}
