// `inspect --answer <file>`: the file's text read as the answer after the inspected text, in one pass of the
// model's generation graph (as the panel's Answer from file… reads it), each answer token with its attention
// rows; the JSON then gains `answer` as with --generate, and --dense the answer tokens' rows.
import * as fs from 'node:fs/promises';
import { EngineError, GenerationSession, readGivenAnswer } from '../engine/inspectApi';
import type { GeneratedAnswer } from '../engine/inspectApi';
import { firstLine } from '../shared/errorText';
import type { InspectArgs } from './inspectArgs';

/**
 * `--answer <file>`: the file's text read after the inspected text in one pass, each token with its rows. The
 * prompt's tokens must be the inspection's, so that the answer's rows follow the prompt's in --dense.
 */
export async function readAnswerFile(
  file: string,
  prompt: string,
  model: Parameters<typeof readGivenAnswer>[0],
  promptTokens: number,
  options: Pick<InspectArgs, 'provider' | 'dtype'>,
): Promise<GeneratedAnswer> {
  let answerText: string;
  try {
    answerText = new TextDecoder('utf-8').decode(await fs.readFile(file));
  } catch (error) {
    throw new EngineError(`Cannot read the answer file ${file}: ${firstLine(error)}`);
  }
  if (answerText.trim() === '') throw new EngineError(`The answer file ${file} is empty.`);
  const session = await GenerationSession.open(model.folder, model.config, {
    provider: options.provider,
    dtype: options.dtype,
  });
  try {
    const answer = await readGivenAnswer(model, session, prompt, answerText);
    const keys = answer.rows[0]?.[0] ? answer.rows[0][0].length / model.config.heads : promptTokens + 1;
    if (keys - 1 !== promptTokens)
      throw new EngineError(
        `The text and its answer tokenize to ${keys - 1} prompt tokens, not the ${promptTokens} inspected (was the text cut? raise --max-tokens).`,
      );
    return answer;
  } finally {
    await session.dispose();
  }
}
