/**
 * The layering of docs/architecture.md, enforced: `npm test` runs this and refuses an
 * import that points the wrong way. Type-only imports count (tsPreCompilationDeps):
 * a layer that knows another's types depends on it.
 *
 *   http → pipeline → providers (authors, repo, verify, deploy, registry, notify) → store, sandbox → domain
 *   support (secrets, safe reads) is a leaf every layer but domain may use; composition wires them all.
 */
const PROVIDERS = '(authors|repo|verify|deploy|registry|notify)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-the-vocabulary',
      comment: 'src/domain holds value types, ports and pure rules: it imports nothing else of the project.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'support-is-a-leaf',
      comment: 'src/support (secrets, safe file reads) may use the domain, nothing above it.',
      severity: 'error',
      from: { path: '^src/support/' },
      to: { path: '^src/', pathNot: '^src/(domain|support)/' },
    },
    {
      name: 'store-sits-below-everything',
      comment: 'The store implements domain ports; it never reaches up into providers, the pipeline or HTTP.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: '^src/(domain|support|store)/' },
    },
    {
      name: 'sandbox-sits-below-providers',
      comment: 'The sandbox and process layer serves the verifier and deploy; it knows only the domain.',
      severity: 'error',
      from: { path: '^src/sandbox/' },
      to: { path: '^src/', pathNot: '^src/(domain|support|sandbox)/' },
    },
    {
      name: 'providers-never-import-each-other',
      comment: 'Providers share the domain, never each other: a shared type belongs in src/domain.',
      severity: 'error',
      from: { path: `^src/${PROVIDERS}/` },
      to: { path: `^src/${PROVIDERS}/`, pathNot: '^src/$1/' },
    },
    {
      name: 'providers-stay-below-the-pipeline',
      comment: 'Providers implement ports; they never import the pipeline, HTTP or the composition root.',
      severity: 'error',
      from: { path: `^src/${PROVIDERS}/` },
      to: { path: '^src/(pipeline|http|composition)/|^src/main\\.ts$' },
    },
    {
      name: 'only-verify-and-deploy-run-generated-code',
      comment: 'Generated code runs only through the sandbox, and only the verifier and deploy run it.',
      severity: 'error',
      from: { path: `^src/${PROVIDERS}/`, pathNot: '^src/(verify|deploy)/' },
      to: { path: '^src/sandbox/' },
    },
    {
      name: 'pipeline-sees-only-ports',
      comment: 'Steps, the runner and the build service depend on domain ports, never on a concrete provider or store.',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/', pathNot: '^src/(domain|support|pipeline)/' },
    },
    {
      name: 'http-holds-no-sql-and-no-provider',
      comment: 'Routes talk to the build service contract and domain ports only: no runner, no store, no provider, no SQL.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/', pathNot: '^src/(domain|support|http)/|^src/pipeline/service\\.ts$' },
    },
    {
      name: 'only-main-imports-the-composition-root',
      comment: 'src/composition wires concrete implementations; nothing but the entry point depends on it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(composition/|main\\.ts$)' },
      to: { path: '^src/composition/' },
    },
    {
      name: 'sqlite-only-in-the-store',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: 'node_modules/better-sqlite3/' },
    },
    {
      name: 'model-sdks-only-in-the-model-author',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/authors/model/' },
      to: { path: 'node_modules/(@anthropic-ai/sdk|openai)/' },
    },
    {
      name: 'language-libraries-only-in-the-offline-author',
      comment: 'Reading intents (compromise, pluralize, franc) is the offline author\'s job; others get its answers through ports.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/authors/offline/' },
      to: { path: 'node_modules/(compromise|pluralize|franc-min)/' },
    },
    {
      name: 'fastify-only-in-http',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(http|composition|cli)/' },
      to: { path: 'node_modules/(fastify|@fastify/|ws/)' },
    },
    {
      name: 'cli-talks-http-only',
      comment: 'The CLI is a client of the HTTP/WS API: it knows the domain\'s types and its own modules, never the server, the pipeline, the store or providers.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/(?!domain/|cli/)|node_modules/(fastify|@fastify/|better-sqlite3)' },
    },
    {
      name: 'no-dev-dependencies-at-run-time',
      comment: 'What src/ imports must be a runtime dependency (package.json "dependencies").',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
    // node_modules stays in the graph as a target (the package rules above need it); doNotFollow keeps it shallow.
    exclude: { path: '^(dist|data)/' },
  },
};
