/**
 * The demo's job: survey a project directory by delegating three subtasks.
 * A real model gets the prompt and decides for itself; the scripted model
 * follows these tasks to the letter.
 */

/** One subtask of the survey, as the scripted parent delegates it. */
export interface SurveyTask {
  /** How the scripted model tells the subtasks apart: the goal starts with the label. */
  label: string;
  goal: string;
  toolsets: string[];
}

export const SURVEY_TASKS: readonly SurveyTask[] = Object.freeze([
  {
    label: 'Map the files',
    goal:
      "Map the files: list the project's root, then its main source directory recursively, and report how many " +
      'files there are by extension and which are the largest.',
    toolsets: ['read'],
  },
  {
    label: 'Find markers and exports',
    goal:
      "Find markers and exports: search the project's source for TODO/FIXME markers and for lines that export names, " +
      'and report the counts with a few examples (file and line).',
    toolsets: ['read', 'search'],
  },
  {
    label: 'Read the docs',
    goal:
      "Read the docs: read the project's README and its package manifest (package.json) and summarise what the " +
      'project is, its version, its dependencies and its scripts.',
    toolsets: ['read'],
  },
]);

/** Background every subtask gets: the subagents see nothing of the parent's conversation. */
export function surveyContext(projectName: string): string {
  return (
    `The project is the directory \`${projectName}\`. The file tools (list_files, read_file, search_files) see only ` +
    'this directory; give them paths relative to it (`.` is the project root). Quote real tool output: file names, counts, lines.'
  );
}

/** The user message of the demo. */
export function surveyPrompt(projectName: string, options: { saveReport?: boolean } = {}): string {
  return (
    `Survey this project (the directory \`${projectName}\`). Delegate three subtasks in one delegate_task batch, ` +
    'with the read and search toolsets as needed: (1) map its files, (2) find TODO/FIXME markers and exported names, ' +
    '(3) read its README and package manifest. ' +
    (options.saveReport ? 'Then save a short Markdown report of what they found with save_report, and answer with it.' : 'Then answer with a short summary of what the subagents found.')
  );
}
