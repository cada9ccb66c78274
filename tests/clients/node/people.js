// Drives Portkey's Node SDK through a workspace's, an invite's, a user's and a membership's lives
// against the mock. Run by tests/clients/test_people_sdks.py with PORTKEY_BASE_URL, PORTKEY_API_KEY and
// MOCK_ROOT_URL set. An invite is accepted through the mock's control plane, as a person would in a
// browser. Prints one JSON document of what it saw; any SDK error exits 1.
const { Portkey } = require('portkey-ai');

async function accept(inviteId) {
  const url = `${process.env.MOCK_ROOT_URL}/__mock/invites/${inviteId}/accept`;
  const headers = { 'x-portkey-api-key': process.env.PORTKEY_API_KEY, 'content-type': 'application/json' };
  const answer = await fetch(url, { method: 'POST', headers, body: '{}' });
  if (!answer.ok) throw new Error(`accept answered ${answer.status}`);
  return answer.json();
}

async function main() {
  const admin = new Portkey({ apiKey: process.env.PORTKEY_API_KEY }).admin;
  const made = await admin.workspaces.create({ name: 'Node team', description: 'from the Node SDK' });
  await admin.workspaces.update({ workspaceId: made.id, name: 'Node team, renamed' });
  const retrieved = await admin.workspaces.retrieve({ workspaceId: made.slug });
  const listed = await admin.workspaces.list({});

  const invite = await admin.users.invites.create({
    email: 'node@example.com',
    role: 'member',
    workspaces: [{ id: made.id, role: 'admin' }],
  });
  const resent = await admin.users.invites.resend({ inviteId: invite.id });
  const pending = await admin.users.invites.retrieve({ inviteId: invite.id });
  const invites = await admin.users.invites.list({});
  const user = await accept(invite.id);

  const users = await admin.users.list({});
  await admin.users.update({ userId: user.id, role: 'admin' });
  const promoted = await admin.users.retrieve({ userId: user.id });

  const member = await admin.workspaces.users.retrieve({ workspaceId: made.id, userId: user.id });
  await admin.workspaces.users.update({ workspaceId: made.id, userId: user.id, role: 'manager' });
  const members = await admin.workspaces.users.list({ workspaceId: made.id });
  await admin.workspaces.users.delete({ workspaceId: made.id, userId: user.id });
  await admin.workspaces.users.create({ workspaceId: made.id, users: [{ id: user.id, role: 'member' }] });

  await admin.users.delete({ userId: user.id });
  const other = await admin.users.invites.create({ email: 'other@example.com', role: 'member' });
  await admin.users.invites.delete({ inviteId: other.id });
  await admin.workspaces.delete({ workspaceId: made.id });
  const finalWorkspaces = await admin.workspaces.list({});

  console.log(JSON.stringify({
    retrievedName: retrieved.name,
    listedTotal: listed.total,
    inviteLink: invite.invite_link,
    resentLink: resent.inviteLink,
    pendingStatus: pending.status,
    invitesTotal: invites.total,
    usersTotal: users.total,
    promotedRole: promoted.role,
    memberRole: member.role,
    membersRoles: members.data.map((m) => m.role),
    finalWorkspaces: finalWorkspaces.total,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
