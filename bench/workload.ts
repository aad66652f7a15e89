/**
 * The workload of P1/P2 in plain terms, without the library: what the floor
 * needs, so that a floor process loads nothing of the library.
 */
import OpenAI from 'openai';

export const MODEL = 'bench-model';

/** The floor's version of the tool: the same work without the runtime around it. */
export const lookupPlain = (word: string): string => `definition of ${word}`;

/** The goal of task `index`: the fake model reads the word back from it. */
export const goalOf = (index: number): string => `Define word w${index}`;

/** What child `index` must answer. */
export const expectedAnswer = (index: number): string => `The answer is: ${lookupPlain(`w${index}`)}`;

/** Throws unless every answer is right. */
export function checkAnswers(who: string, answers: readonly string[]): void {
  const wrong = answers.findIndex((answer, index) => answer !== expectedAnswer(index));
  if (wrong !== -1) throw new Error(`${who}: child ${wrong} answered ${JSON.stringify(answers[wrong])}, expected ${JSON.stringify(expectedAnswer(wrong))}`);
}

export function clientFor(server: { url: string }): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: 'bench', maxRetries: 0 });
}
