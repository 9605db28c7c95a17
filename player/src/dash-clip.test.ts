import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationSeconds, rebaseClip, type XmlNode } from './dash-clip.js';

const node = (tagName: string, attributes: Record<string, string>, ...children: unknown[]): XmlNode => ({
  tagName,
  attributes,
  children,
});

const list = (timescale: string, pto: string, ...starts: string[]) =>
  node(
    'SegmentList',
    { timescale, presentationTimeOffset: pto },
    node('Initialization', { sourceURL: '/objects/d/init.mp4' }),
    node('SegmentTimeline', {}, ...starts.map((t) => node('S', { t, d: '30720' }))),
  );

/** The origin's MPD of the clip [40.3 s, 42.8 s) of the sample (its numbers as it wrote them). */
const clip = () =>
  node(
    'MPD',
    {
      xmlns: 'urn:mpeg:dash:schema:mpd:2011',
      'xmlns:dreamdb': 'urn:dreamdb:2026',
      mediaPresentationDuration: 'PT2.500S',
    },
    node(
      'Period',
      { id: '0', start: 'PT0S', 'dreamdb:tick': '40300000000' },
      node(
        'EventStream',
        { schemeIdUri: 'urn:dreamdb:event:2026', value: 'events', timescale: '1000000000' },
        node(
          'Event',
          { presentationTime: '167000000', duration: '1000000000', id: '0' },
          '{"label":"marker"}',
        ),
      ),
      node(
        'AdaptationSet',
        { contentType: 'video', mimeType: 'video/mp4' },
        node('Representation', { id: 'video' }, list('15360', '619008', '614405', '645125')),
      ),
      node(
        'AdaptationSet',
        { contentType: 'audio', mimeType: 'audio/mp4' },
        node('Representation', { id: 'audio' }, list('48000', '1934400', '1927311', '2023567')),
      ),
      node(
        'AdaptationSet',
        { contentType: 'image', mimeType: 'image/jpeg' },
        node('Representation', { id: 'thumbnails' }, list('1000000000', '40300000000', '40067000000')),
      ),
    ),
  );

const at = (n: XmlNode, ...path: number[]): XmlNode =>
  path.reduce((x, i) => x.children.filter((c): c is XmlNode => typeof c === 'object')[i]!, n);

test("a clip's Period moves back to its earliest fragment: media time 0 is that fragment's tick", () => {
  const mpd = clip();
  // The video's first fragment (tick 40000325521) starts 0.2997 s before the window, the audio's 0.1477 s.
  assert.equal(rebaseClip(mpd), 40_000_325_521n);
  const period = at(mpd, 0);
  assert.equal(period.attributes['dreamdb:tick'], '40000325521');
  // The video's offset is now its first fragment's tfdt; the audio moves by the same time in its units.
  assert.equal(at(period, 1, 0, 0).attributes.presentationTimeOffset, '614405');
  assert.equal(at(period, 2, 0, 0).attributes.presentationTimeOffset, '1920016');
  assert.equal(at(period, 3, 0, 0).attributes.presentationTimeOffset, '40000325521');
  // Events and the presentation's end stay where they are in ticks.
  assert.equal(at(period, 0, 0).attributes.presentationTime, '466674479');
  assert.deepEqual(at(period, 0, 0).children, ['{"label":"marker"}']);
  assert.equal(mpd.attributes.mediaPresentationDuration, 'PT2.799675S');
});

test('a clip starting on a fragment, and an MPD that is not the origin’s, are left as they are', () => {
  const mpd = clip();
  const aligned = at(mpd, 0);
  aligned.attributes['dreamdb:tick'] = '40000325521';
  at(aligned, 1, 0, 0).attributes.presentationTimeOffset = '614405';
  at(aligned, 2, 0, 0).attributes.presentationTimeOffset = '1927311';
  const before = JSON.stringify(mpd);
  assert.equal(rebaseClip(mpd), 40_000_325_521n);
  assert.equal(JSON.stringify(mpd), before);

  const foreign = clip();
  delete foreign.attributes['xmlns:dreamdb'];
  assert.equal(rebaseClip(foreign), undefined);
  assert.equal(
    JSON.stringify(foreign),
    JSON.stringify(clip()).replace(',"xmlns:dreamdb":"urn:dreamdb:2026"', ''),
  );
});

test('xs:durations', () => {
  assert.equal(durationSeconds('PT2.500S'), 2.5);
  assert.equal(durationSeconds('P1DT1H2M3.25S'), 86_400 + 3_600 + 120 + 3.25);
  assert.equal(durationSeconds('PT5M'), 300);
  for (const bad of ['', 'P', 'PT', 'T1S', 'PT-1S', 'PT1.5.2S'])
    assert.equal(durationSeconds(bad), undefined, bad);
});
