/**
 * How connectors spread over workers. BullMQ alone hands every job to whichever worker asks first
 * (FACTS-bullmq.md: 200 jobs on 4 workers ended 44/88/35/33), so the first worker up would run
 * everything. Two rules even it out: a worker passes on a connector while another worker runs
 * fewer than it does, and a worker above its fair share hands back the difference.
 */
export interface MemberLoad {
  id: string;
  running: number;
  capacity: number;
}

/** What each worker should run at most when the connectors are spread evenly. */
export function fairShare(connectors: number, workers: number): number {
  return Math.ceil(connectors / Math.max(1, workers));
}

/** Whether `me` should pass on a connector it was just given: another worker with room runs fewer. */
export function shouldPass(me: MemberLoad, members: readonly MemberLoad[]): boolean {
  return members.some((m) => m.id !== me.id && m.running < me.running && m.running < m.capacity);
}

/**
 * How many connectors `me` should hand back: what it runs above its fair share, as far as the
 * other workers have room for them below theirs. Zero when nobody could take them.
 */
export function surplus(me: MemberLoad, members: readonly MemberLoad[], connectors: number): number {
  const share = fairShare(connectors, members.length);
  if (me.running <= share) return 0;
  const room = members
    .filter((m) => m.id !== me.id)
    .reduce((sum, m) => sum + Math.max(0, Math.min(share, m.capacity) - m.running), 0);
  return Math.min(me.running - share, room);
}
