// The run's topics come and go with it: each run writes ~0.5 GB per million events into the shared broker.
import { Kafka, logLevel } from 'kafkajs';

/** Deletes every topic whose name starts with `<run>-` (input, outputs, changelogs, side outputs); returns how many. */
export async function deleteRunTopics(brokers: string[], run: string): Promise<number> {
  const admin = new Kafka({ brokers, clientId: 'sluice-bench-cleanup', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${run}-`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    return topics.length;
  } finally {
    await admin.disconnect();
  }
}
