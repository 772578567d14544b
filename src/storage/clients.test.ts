import { testSettings } from '../../test/support/env';
import { getBlobContainerClient, getQueueClient, getTableClient, newTableClient, TABLES } from './clients';

describe('storage clients', () => {
  it('creates a prefixed table once per process and hands out the same client afterwards', async () => {
    const settings = testSettings();
    const first = await getTableClient(settings, TABLES.contacts);
    expect(first.tableName).toBe(`${settings.tablePrefix}contacts`);
    expect(await getTableClient(settings, TABLES.contacts)).toBe(first);
    await first.createEntity({ partitionKey: 'p', rowKey: 'r', value: 1 });
    expect((await first.getEntity('p', 'r')).value).toBe(1);
  });

  it('creates the run queue and its poison queue under the configured name', async () => {
    const settings = testSettings();
    const runs = await getQueueClient(settings);
    const poison = await getQueueClient(settings, 'poison');
    expect(runs.name).toBe(settings.queueName);
    expect(poison.name).toBe(`${settings.queueName}-poison`);
    await runs.sendMessage('hello');
    expect((await runs.getProperties()).approximateMessagesCount).toBe(1);
    expect((await poison.getProperties()).approximateMessagesCount).toBe(0);
  });

  it("creates the app's blob container", async () => {
    const container = await getBlobContainerClient(testSettings());
    expect(container.containerName).toBe('license-sync');
    expect(await container.exists()).toBe(true);
  });

  it('addresses the identity-based table endpoint when no connection string is set', () => {
    const client = newTableClient(
      {
        tablePrefix: 'x',
        storage: {
          tableServiceUri: 'https://acct.table.core.windows.net',
          clientId: '00000000-0000-0000-0000-000000000001',
        },
      },
      TABLES.runs,
    );
    expect(client.url).toBe('https://acct.table.core.windows.net');
    expect(client.tableName).toBe('xruns');
  });
});
