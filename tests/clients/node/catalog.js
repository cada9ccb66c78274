// Drives Portkey's Node SDK through an integration's and a provider's whole lives against the mock.
// Run by tests/clients/test_model_catalog_sdks.py with PORTKEY_BASE_URL and PORTKEY_API_KEY set.
// Prints one JSON document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

const LIMIT = { type: 'requests', unit: 'rpm', value: 60 };

async function main() {
  const portkey = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  await portkey.integrations.create({
    name: 'Node OpenAI',
    slug: 'node-openai',
    ai_provider_id: 'openai',
    key: 'sk-catalog-sdk-000000000wxyz',
  });
  const detail = await portkey.integrations.retrieve({ slug: 'node-openai' });
  await portkey.integrations.list({});
  await portkey.integrations.update({ slug: 'node-openai', description: 'from the Node SDK' });
  await portkey.integrations.workspaces.update({
    slug: 'node-openai',
    workspaces: [{ id: 'ws-node', enabled: true }],
    global_workspace_access: { enabled: true },
    override_existing_workspaces_access: false,
  });
  await portkey.integrations.workspaces.list({ slug: 'node-openai' });
  await portkey.integrations.models.update({
    slug: 'node-openai',
    models: [{ slug: 'my-ft', enabled: true, is_custom: true }],
  });
  await portkey.integrations.models.delete({ slug: 'node-openai', slugs: 'my-ft' });

  const defaults = await portkey.providers.list({ workspace_id: 'ws-node' });
  const made = await portkey.providers.create({
    name: 'node provider',
    integration_id: 'node-openai',
    workspace_id: 'ws-node',
    rate_limits: LIMIT,
  });
  await portkey.providers.update({ slug: made.slug, workspace_id: 'ws-node', note: 'from node', rate_limits: LIMIT });
  const got = await portkey.providers.retrieve({ slug: made.slug, workspace_id: 'ws-node' });
  await portkey.providers.delete({ slug: made.slug, workspace_id: 'ws-node' });

  const own = await portkey.providers.create({ name: 'own', integration_id: 'node-openai', slug: 'node-own' });
  const viaVk = await portkey.virtualKeys.retrieve({ slug: own.slug });
  const finalProviders = await portkey.providers.list({});
  await portkey.integrations.delete({ slug: 'node-openai' });
  const left = await portkey.integrations.list({});
  console.log(
    JSON.stringify({
      maskedKey: detail.masked_key,
      defaultProvider: defaults.data[0].slug,
      rateLimits: got.rate_limits,
      viaVirtualKeys: { object: viaVk.object, integration_id: viaVk.integration_id },
      finalProviders: finalProviders.total,
      integrationsLeft: left.total,
    })
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
