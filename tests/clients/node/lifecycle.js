// Drives Portkey's Node SDK through a virtual key's whole lifecycle against the mock.
// Run by tests/clients/test_node_sdk.py with PORTKEY_BASE_URL (honoured by the SDK) and PORTKEY_API_KEY set.
// Prints one JSON document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

const DEPLOYMENT = { apiVersion: '2024-08-01-preview', deploymentName: 'gpt-4o', is_default: true };

const CREATES = [
  { name: 'openai-node', provider: 'openai', key: 'sk-node-0000000000abcd', note: 'from node' },
  {
    name: 'azure-node',
    provider: 'azure-openai',
    key: 'azure-node-secret-0000wxyz',
    resourceName: 'my-resource',
    deploymentConfig: [DEPLOYMENT],
  },
  {
    name: 'bedrock-node',
    provider: 'bedrock',
    awsAuthType: 'assumedRole',
    awsRoleArn: 'arn:aws:iam::123456789012:role/portkey',
    awsRegion: 'us-east-1',
  },
];

async function main() {
  const portkey = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  const slugs = [];
  for (const body of CREATES) {
    const created = await portkey.virtualKeys.create(body);
    slugs.push(created.data.slug);
  }
  const listed = await portkey.virtualKeys.list({});
  const retrieved = [];
  for (const slug of slugs) {
    const key = await portkey.virtualKeys.retrieve({ slug });
    retrieved.push({ slug: key.slug, provider: key.ai_provider_name, model_config: key.model_config });
  }
  await portkey.virtualKeys.update({ slug: slugs[0], note: 'updated from node', rate_limits: [] });
  await portkey.virtualKeys.update({
    slug: slugs[1],
    deploymentConfig: [{ ...DEPLOYMENT, deploymentName: 'gpt-4o-mini' }],
  });
  const updated = await portkey.virtualKeys.retrieve({ slug: slugs[1] });
  for (const slug of slugs) {
    await portkey.virtualKeys.delete({ slug });
  }
  const after = await portkey.virtualKeys.list({});
  console.log(
    JSON.stringify({
      slugs,
      listedTotal: listed.total,
      retrieved,
      updatedDeployments: updated.model_config.deploymentConfig,
      finalTotal: after.total,
    })
  );
}

main().catch((error) => {
  console.error(`node SDK call failed: ${error.status || ''} ${error.message}`);
  process.exit(1);
});
