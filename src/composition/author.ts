/** Picks and builds the author the configuration asks for. */
import type { Config } from './config.js';
import { SecretRedactor } from '../support/secrets.js';
import type { ModelClient } from '../authors/model/types.js';
import { ModelAuthor } from '../authors/model/model-author.js';
import { PriceTable } from '../authors/model/pricing.js';
import { OfflineAuthor } from '../authors/offline/index.js';
import type { Author } from '../domain/ports/author.js';

/** No wait between retries is longer than this, whatever a retry-after header asks. */
const MAX_RETRY_DELAY_MS = 120_000;

/** The model SDKs load only when configured: together they take ~0.4 s an offline start does not need. */
async function createModelClient(config: Config): Promise<ModelClient> {
  if (config.modelProvider === 'anthropic') {
    const { AnthropicClient } = await import('../authors/model/anthropic-client.js');
    return new AnthropicClient({ apiKey: config.ANTHROPIC_API_KEY!, model: config.ANTHROPIC_MODEL, baseURL: config.ANTHROPIC_BASE_URL });
  }
  const { OpenAIClient } = await import('../authors/model/openai-client.js');
  return new OpenAIClient({ apiKey: config.OPENAI_API_KEY, model: config.OPENAI_MODEL, baseURL: config.OPENAI_BASE_URL });
}

export async function createAuthor(config: Config): Promise<Author> {
  if (config.modelProvider === 'offline') return new OfflineAuthor();
  const client = await createModelClient(config);
  const redactor = new SecretRedactor(config.secrets);
  return new ModelAuthor({
    client,
    prices: new PriceTable(config.MODEL_PRICES),
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
