// Drives Portkey's Node SDK through an API key's whole life against the mock, and calls the mock
// with the key it made. Run by tests/clients/test_api_key_sdks.py with PORTKEY_BASE_URL and
// PORTKEY_API_KEY set. Prints one JSON document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

async function main() {
  const admin = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  const created = await admin.apiKeys.create({
    type: 'workspace',
    'sub-type': 'service',
    name: 'node',
    scopes: ['configs.list', 'configs.create'],
    workspace_id: 'ws-node',
  });
  const made = new Portkey({ apiKey: created.key });
  const listedByKey = (await made.configs.list({})).total;
  const retrieved = await admin.apiKeys.retrieve({ id: created.id });
  const listed = await admin.apiKeys.list({ workspace_id: 'ws-node' });
  await admin.apiKeys.update({ id: created.id, name: 'node, renamed', scopes: ['configs.list'] });
  const renamed = (await admin.apiKeys.retrieve({ id: created.id })).name;
  await admin.apiKeys.delete({ id: created.id });
  let refusedAfterDelete = null;
  try {
    await made.configs.list({});
  } catch (error) {
    refusedAfterDelete = error.status;
  }
  const left = (await admin.apiKeys.list({})).total;
  console.log(JSON.stringify({
    createdObject: created.object,
    valueShownOnce: retrieved.key !== created.key,
    type: retrieved.type,
    workspaceId: retrieved.workspace_id,
    listedByKey,
    listedTotal: listed.total,
    renamed,
    refusedAfterDelete,
    left,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
