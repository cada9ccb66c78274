// Drives Portkey's Node SDK through inserting a log and giving and changing feedback against the
// mock. Run by tests/clients/test_logs_sdks.py with PORTKEY_BASE_URL and PORTKEY_API_KEY set.
// Prints one JSON document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

async function main() {
  const portkey = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  const inserted = await portkey.logs.create({
    request: {
      url: 'https://api.openai.com/v1/chat/completions',
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-0123456789abcdef' },
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is AI?' }] },
    },
    response: {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: { model: 'gpt-4o-mini', usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 } },
      response_time: 123,
    },
    metadata: { _user: 'node', trace_id: 't-node' },
  });
  const given = await portkey.feedback.create({ trace_id: 't-node', value: 4, weight: 0.75 });
  const feedbackId = given.feedback_ids[0];
  const changed = await portkey.feedback.update({ feedbackID: feedbackId, value: -1 });

  console.log(JSON.stringify({
    logId: inserted.log_ids[0],
    feedbackId,
    given: given.status,
    changed: changed.feedback_ids,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
