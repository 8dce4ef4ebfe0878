/**
 * The little the reader must know beyond grammar: which words ask for building
 * something, which nouns only name the thing built, and which verbs ask for behaviour
 * a store of records does not have. compromise says what a word is; these say what it
 * means to a droplet.
 */

/** Leading verbs that ask for a droplet to be built ("Build…", "make me…"). */
export const CREATION_VERBS = new Set([
  'build', 'create', 'make', 'write', 'develop', 'implement', 'design', 'generate', 'give', 'need', 'want', 'set', 'setup',
  'spin', 'add', 'please', 'help', 'can', 'could', 'would', 'like', 'i', 'we', 'up', 'me', 'us',
]);

/** Verbs whose objects a droplet of records serves: it keeps, lists and changes them. */
export const STORAGE_VERBS = new Set([
  'store', 'keep', 'track', 'manage', 'record', 'log', 'save', 'list', 'catalog', 'catalogue', 'organize', 'organise',
  'collect', 'hold', 'contain', 'include', 'have', 'has', 'edit', 'add', 'remove', 'delete', 'browse', 'view', 'note',
  'register', 'plan', 'book', 'follow', 'count', 'tally', 'inventory', 'maintain', 'bookmark', 'archive', 'file', 'be', 'is',
  'are', 'want', 'need', 'let', 'allow', 'can', 'should', 'will', 'may', 'must',
]);

/** Nouns that name the droplet, not what it keeps ("a *service*", "an *app*", "a *thing*"). */
export const VAGUE_HEADS = new Set([
  'thing', 'things', 'something', 'stuff', 'service', 'app', 'application', 'api', 'tool', 'system', 'platform', 'droplet',
  'backend', 'server', 'program', 'software', 'solution', 'microservice', 'website', 'site', 'page', 'project',
]);

/**
 * Heads of a droplet's name whose modifiers say what it keeps: "a *recipe* catalogue"
 * keeps recipes, a "*habit* tracker" habits. (An "analytics engine" or a "parking
 * finder" does not say it as clearly; its modifiers count only when nothing else does.)
 */
export const CONTAINER_HEADS = new Set([
  ...VAGUE_HEADS, 'catalogue', 'catalog', 'library', 'manager', 'tracker', 'keeper', 'store', 'directory',
  'database', 'db', 'list', 'log', 'journal', 'book', 'board', 'inventory', 'collection', 'archive', 'planner', 'organizer',
  'organiser', 'crm', 'diary', 'logbook', 'ledger', 'box', 'vault', 'repository', 'index',
]);

/**
 * Things that are behaviour, not records: the archetypes the offline author cannot
 * build yet. A name or verb phrase built on one is reported as not covered.
 */
export const BEHAVIOUR_WORDS = new Set([
  'limiter', 'limit', 'limiting', 'registry', 'throttle', 'throttling', 'hub', 'scheduler', 'schedule', 'scheduling', 'shortener',
  'shorten', 'redirect', 'proxy', 'gateway', 'router', 'queue', 'cache', 'balancer', 'dispatcher', 'notifier', 'notify',
  'aggregator', 'aggregate', 'monitor', 'monitoring', 'heartbeat', 'cron', 'webhook', 'broker', 'relay', 'forwarder',
  'fan', 'send', 'deliver', 'email', 'sms', 'push', 'call', 'hit', 'proxy', 'stream', 'sync', 'import', 'export',
  'convert', 'translate', 'predict', 'recommend', 'analyze', 'analyse', 'compute', 'calculate', 'charge', 'pay', 'scrape',
  'crawl', 'fetch', 'ping', 'poll', 'alert', 'remind', 'forward', 'route', 'publish', 'broadcast', 'resize', 'render',
  'compress', 'encrypt', 'sign', 'verify', 'validate', 'generate', 'search', 'match', 'rank', 'split', 'optimize',
]);

/** Nouns too general to be a resource: the droplet itself, its callers, its kind of data. */
export const STOP_NOUNS = new Set([
  ...VAGUE_HEADS, 'droplets', 'services', 'apis', 'apps', 'data', 'datum', 'information', 'info', 'everything', 'anything',
  'way', 'ways', 'kind', 'kinds', 'type', 'types', 'lot', 'lots', 'bunch', 'number', 'endpoint', 'endpoints', 'request',
  'requests', 'call', 'calls', 'people', 'someone', 'anyone', 'everyone', 'one', 'ones', 'time', 'times', 'me', 'us',
  'id', 'ids', 'json', 'rest', 'http', 'crud', 'record',
  'records', 'entry', 'entries', 'item', 'items', 'object', 'objects', 'resource', 'resources', 'list', 'lists',
]);

/** Quantifiers and openers that are no part of a noun phrase's meaning. */
export const FILLER_WORDS = new Set([
  'a', 'an', 'the', 'my', 'our', 'your', 'their', 'its', 'his', 'her', 'all', 'any', 'each', 'every', 'some', 'many',
  'more', 'most', 'other', 'this', 'these', 'those', 'new', 'simple', 'basic', 'small', 'tiny', 'little', 'quick', 'own',
  'real', 'good', 'nice', 'various', 'several', 'different', 'certain', 'external', 'internal', 'whole',
]);

/** Prepositions after which a noun phrase describes the record before it ("tasks *with* due dates"). */
export const ATTRIBUTE_MARKERS = new Set(['with', 'having', 'have', 'has', 'including', 'containing', 'plus']);

/**
 * Prepositions after which a noun phrase is the record the one before belongs to
 * ("stock levels *per* warehouse"). Not "by": "looked up by name", "sorted by date".
 */
export const OWNER_MARKERS = new Set(['per', 'each']);

/** Paths the UDC owns: never a resource's URL segment. */
export const RESERVED_PATHS = new Set(['health', 'capabilities', 'state', 'dependencies', 'message', 'executor']);
