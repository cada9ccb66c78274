// Drives Portkey's Node SDK through a collection's and a label's lives against the mock. Run by
// tests/clients/test_prompt_library_sdks.py with PORTKEY_BASE_URL and PORTKEY_API_KEY set. Prints
// one JSON document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

async function main() {
  const portkey = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  const top = await portkey.collections.create({ name: 'Support' });
  const child = await portkey.collections.create({ name: 'Refunds', parent_collection_id: top.id });
  const read = await portkey.collections.retrieve(top.slug);
  const searched = await portkey.collections.list({ search: 'REF' });
  await portkey.collections.update(child.id, { name: 'Refunds and returns' });
  const renamed = await portkey.collections.retrieve(child.id);
  await portkey.collections.delete(child.id);
  await portkey.collections.delete(top.id);
  const collections = await portkey.collections.list({});

  const label = await portkey.labels.create({ name: 'production-eu', color_code: '#2a5' });
  await portkey.labels.update(label.id, { color_code: '#a52' });
  const coloured = await portkey.labels.retrieve(label.id);
  await portkey.labels.list({ search: 'production' });
  await portkey.labels.delete(label.id);
  const labels = await portkey.labels.list({});

  console.log(JSON.stringify({
    childId: child.id,
    childIds: read.child_collections.map((c) => c.id),
    searched: searched.total,
    renamed: renamed.name,
    collectionsLeft: collections.total,
    labelColour: coloured.color_code,
    labelsLeft: labels.total,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
