/**
 * `save_report`: the demo's one tool that changes something outside the
 * surveyed project, so it needs the user's approval: the parent agent saves
 * its survey report to the file given with `--report`.
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { defineTool } from '../toolkit/define-tool.js';
import type { Tool } from '../toolkit/define-tool.js';

/** The tool's name, as the scripted model calls it. */
export const SAVE_REPORT_TOOL = 'save_report';

const parameters = z.object({ report: z.string().min(1).describe('The whole report, as Markdown.') });

/**
 * Creates `save_report` for one file. Every call needs the user's approval.
 *
 * @example
 * ```ts
 * const saveReport = createSaveReportTool('/tmp/survey.md');
 * ```
 */
export function createSaveReportTool(file: string): Tool<typeof parameters, string> {
  return defineTool({
    name: SAVE_REPORT_TOOL,
    toolset: 'report',
    description: `Save your final survey report to ${file} (replacing that file). The user is asked to approve each call.`,
    parameters,
    needsApproval: true,
    execute: async ({ report }, { signal }) => {
      await writeFile(file, report.endsWith('\n') ? report : `${report}\n`, { encoding: 'utf8', signal });
      return `Saved the report (${report.length} characters) to ${file}.`;
    },
  });
}
