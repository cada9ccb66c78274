// Drives Portkey's Node SDK through a prompt's and a partial's lives against the mock. Run by
// tests/clients/test_prompts_sdks.py with PORTKEY_BASE_URL and PORTKEY_API_KEY set. Prints one JSON
// document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

async function main() {
  const portkey = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  const collection = await portkey.collections.create({ name: 'Node prompts' });

  const tone = await portkey.prompts.partials.create({ name: 'Node tone', string: 'Answer kindly.' });
  await portkey.prompts.partials.update(tone.slug, { string: 'Answer briefly.' });
  const partialVersions = await portkey.prompts.partials.versions.list(tone.slug);
  await portkey.prompts.partials.publish(tone.slug, { version: 2 });
  await portkey.prompts.partials.retrieve(tone.id);
  await portkey.prompts.partials.list({});

  const made = await portkey.prompts.create({
    name: 'Node reply',
    collection_id: collection.id,
    string: `{{>${tone.slug}}} {{question}}`,
    parameters: { temperature: 0.2 },
    model: 'gpt-4o-mini',
  });
  const second = await portkey.prompts.update(made.slug, { string: `{{>${tone.slug}}} {{question}}`, model: 'gpt-4o' });
  const versions = await portkey.prompts.versions.list(made.slug);
  await portkey.prompts.versions.retrieve(made.slug, made.version_id);
  const label = await portkey.labels.create({ name: 'node-staging' });
  await portkey.prompts.versions.update(made.slug, second.prompt_version_id, { label_id: label.id });
  await portkey.prompts.publish(made.slug, { version: 2 });
  const read = await portkey.prompts.retrieve(made.id);
  await portkey.prompts.list({ collection_id: collection.id });
  const rendered = await portkey.prompts.render({ promptID: `${made.slug}@node-staging`, variables: { question: 'Where?' } });
  const completed = await portkey.prompts.completions.create({ promptID: made.id, variables: { question: 'Where?' } });

  await portkey.prompts.delete(made.id);
  await portkey.prompts.partials.delete(tone.id);
  const left = await portkey.prompts.list({});

  console.log(JSON.stringify({
    versions: versions.data.map((v) => v.prompt_version),
    published: read.prompt_version,
    rendered: rendered.data.prompt,
    completed: completed.choices[0].text,
    partialVersions: partialVersions.data.map((v) => v.version),
    left: left.total,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
