/** Picks and builds the author the configuration asks for. */
import type { Config } from '../config.js';
import { SecretRedactor } from '../secrets.js';
import { AnthropicClient } from './model/anthropic-client.js';
import { ModelAuthor } from './model/model-author.js';
import { OpenAIClient } from './model/openai-client.js';
import { parsePriceOverrides, PriceTable } from './model/pricing.js';
import { OfflineAuthor } from './offline/index.js';
import type { Author } from './types.js';

/** No wait between retries is longer than this, whatever a retry-after header asks. */
const MAX_RETRY_DELAY_MS = 120_000;

export function createAuthor(config: Config): Author {
  if (config.modelProvider === 'offline') return new OfflineAuthor();
  const client =
    config.modelProvider === 'anthropic'
      ? new AnthropicClient({ apiKey: config.ANTHROPIC_API_KEY!, model: config.ANTHROPIC_MODEL, baseURL: config.ANTHROPIC_BASE_URL })
      : new OpenAIClient({ apiKey: config.OPENAI_API_KEY, model: config.OPENAI_MODEL, baseURL: config.OPENAI_BASE_URL });
  const redactor = new SecretRedactor(config.secrets);
  return new ModelAuthor({
    client,
    prices: new PriceTable(parsePriceOverrides(config.MODEL_PRICES)),
    retry: {
      maxRetries: config.MODEL_MAX_RETRIES,
      baseDelayMs: config.MODEL_RETRY_BASE_MS,
      maxDelayMs: MAX_RETRY_DELAY_MS,
      idleTimeoutMs: config.MODEL_IDLE_TIMEOUT_SECONDS * 1000,
    },
    maxOutputTokens: config.MODEL_MAX_OUTPUT_TOKENS,
    outputFormat: config.MODEL_OUTPUT_FORMAT,
    redact: (text) => redactor.redact(text),
  });
}
