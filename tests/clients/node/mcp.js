// Drives Portkey's Node SDK through an MCP integration's life (its capabilities, workspace access
// and metadata too) and an MCP server's (with test, its capabilities, user access and connections)
// against the mock. Run by tests/clients/test_mcp_sdks.py with PORTKEY_BASE_URL, PORTKEY_API_KEY and
// MOCK_ROOT_URL set; a user is made by an invite accepted through the mock's control plane, as a
// person would in a browser. Prints one JSON document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

async function accept(inviteId) {
  const url = `${process.env.MOCK_ROOT_URL}/__mock/invites/${inviteId}/accept`;
  const headers = { 'x-portkey-api-key': process.env.PORTKEY_API_KEY, 'content-type': 'application/json' };
  const answer = await fetch(url, { method: 'POST', headers, body: '{"first_name": "Grace"}' });
  if (!answer.ok) throw new Error(`accept answered ${answer.status}`);
  return answer.json();
}

async function main() {
  const portkey = new Portkey({ apiKey: process.env.PORTKEY_API_KEY });
  const mcp = portkey.mcpIntegrations;
  const made = await mcp.create({
    name: 'Docs search', url: 'https://mcp.example.com/mcp', auth_type: 'none', transport: 'http',
  });
  await mcp.update({ id: made.id, name: 'Docs search (EU)' });
  const renamed = await mcp.retrieve({ id: made.slug });
  const listed = await mcp.list({ search: 'docs' });
  await mcp.capabilities.update({ id: made.id, capabilities: [{ name: 'search', type: 'tool', enabled: true }] });
  const capabilities = await mcp.capabilities.list({ id: made.id });
  const metadata = await mcp.metadata.get({ id: made.id });
  const workspace = await portkey.admin.workspaces.create({ name: 'MCP users' });
  await mcp.workspaces.update({ id: made.id, workspaces: [{ id: workspace.id, enabled: true }] });
  const granted = await mcp.workspaces.list({ id: made.id });
  await mcp.workspaces.update({ id: made.id, workspaces: [], global_workspace_access: { enabled: true } });
  const served = await portkey.mcpServers.create({ name: 'Docs', mcp_integration_id: made.id });
  await portkey.mcpServers.update({ id: served.id, name: 'Docs (EU)' });
  const server = await portkey.mcpServers.retrieve({ id: served.slug });
  await portkey.mcpServers.list({ search: 'docs' });
  const tested = await portkey.mcpServers.test({ id: served.id });
  const servers = portkey.mcpServers;
  await servers.capabilities.update({ id: served.id, capabilities: [{ name: 'search', type: 'tool', enabled: false }] });
  const narrowed = await servers.capabilities.list({ id: served.slug });
  const invite = await portkey.admin.users.invites.create({ email: 'grace@example.com', role: 'member' });
  const grace = await accept(invite.id);
  await servers.userAccess.update({
    id: served.id, user_access: [{ user_id: grace.id, enabled: false }], default_user_access: 'deny',
  });
  const access = await servers.userAccess.list({ id: served.id });
  const connections = await servers.connections.list({ id: served.id, user_id: grace.id });
  const disconnected = await servers.connections.delete({ id: served.id, user_id: grace.id });
  await portkey.mcpServers.delete({ id: served.id });
  const remaining = await portkey.mcpServers.list({});
  await mcp.delete({ id: made.id });
  const left = await mcp.list({});

  console.log(JSON.stringify({
    renamed: renamed.name,
    listed: listed.total,
    capabilities: capabilities.data.map((c) => [c.type, c.name, c.enabled]),
    flags: metadata.capability_flags,
    workspaces: granted.workspaces.length,
    left: left.total,
    server: server.name,
    tested: tested.success,
    serversLeft: remaining.total,
    serverCapabilities: narrowed.data.map((c) => [c.name, c.enabled, c.integration_enabled]),
    access: [access.default_user_access, access.data.map((u) => [u.user_id === grace.id, u.enabled, u.has_override])],
    connections: connections.total,
    disconnected: disconnected.success,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
