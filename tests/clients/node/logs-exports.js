// Drives Portkey's Node SDK through every logs-export method against the mock: create, list,
// retrieve, update, cancel (another export), start and download. Run by
// tests/clients/test_logs_sdks.py with PORTKEY_BASE_URL, PORTKEY_API_KEY, EXPORT_RUN (the metadata
// value its logs carry) and EXPORT_FIELDS set. Prints one JSON document of what it saw; any SDK
// error exits 1.
const { Portkey } = require('portkey-ai');

async function main() {
  const portkey = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  const filters = { metadata: { run: process.env.EXPORT_RUN } };
  const requestedData = JSON.parse(process.env.EXPORT_FIELDS);
  const made = await portkey.logs.exports.create({ filters, requestedData, description: 'node' });
  const listed = await portkey.logs.exports.list({});
  const updated = await portkey.logs.exports.update({ exportId: made.id, filters, requestedData });
  const other = await portkey.logs.exports.create({ filters: {}, requestedData });
  await portkey.logs.exports.cancel({ exportId: other.id });
  const cancelled = await portkey.logs.exports.retrieve({ exportId: other.id });
  await portkey.logs.exports.start({ exportId: made.id });
  const download = await portkey.logs.exports.download({ exportId: made.id });
  const read = await portkey.logs.exports.retrieve({ exportId: made.id });

  console.log(JSON.stringify({
    total: made.total,
    listed: listed.data.some((item) => item.id === made.id),
    updated: updated.total,
    cancelled: cancelled.status,
    status: read.status,
    signedUrl: download.signed_url,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
