import { VERSION } from 'openai/version';

/** The major version of the installed `openai` client: CI runs the integration tests on 6 and on 7. */
export const OPENAI_MAJOR = Number(VERSION.split('.')[0]);
