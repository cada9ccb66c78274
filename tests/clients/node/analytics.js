// Drives Portkey's Node SDK through the analytics graphs, groups and summary against the mock.
// Run by tests/clients/test_analytics_sdks.py with PORTKEY_BASE_URL and PORTKEY_API_KEY set, and
// the time window as a JSON argument. With no second argument it reads every graph, group and
// summary whose path the published spec has and prints what it read as one JSON document; with a
// method's name (`graphs.errors_rate`) it calls just that one. Any SDK error exits 1.
const { Portkey } = require('portkey-ai');

const ON_SPEC_GRAPHS = {
  requests: 'requests',
  cost: 'cost',
  latency: 'latency',
  tokens: 'tokens',
  users: 'users',
  errors: 'errors',
  feedbacks: 'feedbacks',
  feedbacks_weighted: 'feedbacks_weighted',
  feedbacks_ai_models: 'feedback_ai_models',
};

async function readAll(analytics, span) {
  const read = {};
  for (const [name, method] of Object.entries(ON_SPEC_GRAPHS)) {
    read[name] = await analytics.graphs[method](span);
  }
  read.groups_users = await analytics.groups.users(span);
  read.groups_ai_models = await analytics.groups.aiModels(span);
  read.groups_metadata = await analytics.groups.metadata('run', span);
  read.summary_cache = await analytics.summary.cache(span);
  return read;
}

async function callOne(analytics, span, method) {
  const [family, name] = method.split('.');
  if (name === 'groupedData') {
    return analytics.groups.groupedData('model', span);
  }
  return analytics[family][name](span);
}

async function main() {
  const portkey = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  const span = JSON.parse(process.argv[2]);
  const method = process.argv[3];
  const read = method ? await callOne(portkey.analytics, span, method) : await readAll(portkey.analytics, span);
  console.log(JSON.stringify(read));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
