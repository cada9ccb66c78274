// Drives Portkey's Node SDK through an MCP integration's life (its capabilities, workspace access
// and metadata too) and an MCP server's (with test) against the mock. Run by tests/clients/test_mcp_sdks.py with PORTKEY_BASE_URL
// and PORTKEY_API_KEY set. Prints one JSON document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

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
  await portkey.mcpServers.delete({ id: served.id });
  const servers = await portkey.mcpServers.list({});
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
    serversLeft: servers.total,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
