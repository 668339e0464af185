/**
 * environments/cron.ts: when a schedule runs, as Kubernetes' CronJob controller (robfig/cron)
 * decides it in UTC: the longest wait between two runs, and the schedules that never run.
 */
import { firstSkippedRun, longestGapMinutes, longestGapMinutesIn } from '../environments/cron';

const HOUR = 60;
const DAY = 24 * HOUR;

test.each([
  ['0 * * * *', HOUR],
  ['40 * * * *', HOUR],
  ['*/15 * * * *', 15],
  ['15 2 * * *', DAY],
  ['0 3,15 * * *', 12 * HOUR],
  ['0 1,2 * * *', 23 * HOUR],
  ['30 4 * * 0', 7 * DAY],
  ['0 0 * * mon-fri', 3 * DAY],
  ['@daily', DAY],
  ['@hourly', HOUR],
  ['@weekly', 7 * DAY],
  // The longest month between two firsts: 31 days.
  ['0 0 1 * *', 31 * DAY],
  // "N/step" runs from N to the end of the range: 10, 30, 50, then 10 again.
  ['10/20 * * * *', 20],
  // A star with step 1 is still a star to robfig: the day of week alone decides, Mondays only.
  ['0 0 */1 * 1', 7 * DAY],
  ['0 0 1 * */1', 31 * DAY],
  // The 31st: a month of 30 days and then one of 31 in between (March 31 → May 31 is 61 days).
  ['0 0 31 * *', 61 * DAY],
  // Every day alike: the longest gap may run over midnight (17:00 to 9:00), or over the hour.
  ['0 9,17 * * *', 16 * HOUR],
  ['*/7 * * * *', 7],
  // Every day of every month and every weekday, though neither field is a star.
  ['0 0-5 1-31 * 0-6', 19 * HOUR],
  // Every day too, but found by walking the four years (a weekday restricts, the full day of month
  // matches anyway): the walk and the one-day measure agree.
  ['0 9,17 1-31 * 1', 16 * HOUR],
])('%s waits at most %d minutes between runs', (expr, minutes) => {
  expect(longestGapMinutes(expr)).toBe(minutes);
});

test('the day of month and the day of week, both restricted: either one runs it (robfig/cron, as Vixie cron)', () => {
  // The 13th of any month or any Friday: never more than a week apart.
  expect(longestGapMinutes('0 0 13 * 5')).toBeLessThanOrEqual(7 * DAY);
  // With the day of week `*`, only the day of month counts.
  expect(longestGapMinutes('0 0 13 * *')).toBe(31 * DAY);
});

test.each(['0 0 31 2 *', '0 0 30 2 *', '0 0 31 4,6,9,11 *', '0 0 31 feb *'])('%s never runs', (expr) => {
  expect(longestGapMinutes(expr)).toBeUndefined();
});

test('a leap day runs, once in four years; the 30th of February with a day of week named runs on that weekday', () => {
  expect(longestGapMinutes('0 0 29 2 *')).toBe(4 * 365.25 * DAY);
  expect(longestGapMinutes('0 0 30 2 1')).toBeDefined();
});

describe('in a time zone, as a CronJob with timeZone runs', () => {
  test('a daily run moves with the clocks: the longest gap is a day and an hour where they change, a day where they never do', () => {
    expect(longestGapMinutesIn('30 4 * * *', 'America/New_York')).toBe(25 * 60);
    expect(longestGapMinutesIn('30 4 * * *', 'Etc/UTC')).toBe(24 * 60);
    expect(longestGapMinutesIn('30 4 * * *', 'Asia/Tokyo')).toBe(24 * 60);
    // Lord Howe Island moves its clocks by half an hour.
    expect(longestGapMinutesIn('0 0 * * *', 'Australia/Lord_Howe')).toBe(24 * 60 + 30);
  });

  test('a run at a time the clocks skip is lost: found, and the gap it leaves measured', () => {
    // 2025-03-09 02:30 does not exist in New York, nor 2025-03-30 02:30 in Berlin.
    expect(firstSkippedRun('30 2 * * *', 'America/New_York')).toBe('2025-03-09 02:30');
    expect(longestGapMinutesIn('30 2 * * *', 'America/New_York')).toBe(47 * 60);
    expect(firstSkippedRun('30 2 * * *', 'Europe/Berlin')).toBe('2025-03-30 02:30');
    expect(firstSkippedRun('30 4 * * *', 'America/New_York')).toBeUndefined();
    expect(firstSkippedRun('30 2 * * *', 'Etc/UTC')).toBeUndefined();
    // Every half hour: one run lost a year, the next 90 minutes after the last.
    expect(longestGapMinutesIn('*/30 * * * *', 'America/New_York')).toBe(90);
  });

  test('where the clocks go back, a run in the repeated hour counts at its first instant (a second would only shorten the gap): a day and an hour', () => {
    expect(longestGapMinutesIn('30 1 * * *', 'America/New_York')).toBe(25 * 60);
  });
});
