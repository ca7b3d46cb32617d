import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeEcg } from '../analysis.js';
import { hl7TimeToIso, readHl7Aecg } from './hl7-aecg.js';
import { EcgFileError, type EcgFileRecording } from './types.js';

const HL7_FILE = new URL(
  '../../../../../shared/data/ecg-other/hl7-aecg/ecg_hl7.xml',
  import.meta.url,
).pathname;

const utf8 = (s: string) => new TextEncoder().encode(s);

function lead(r: EcgFileRecording, l: number): number[] {
  const out: number[] = [];
  for (let i = l; i < r.samples.length; i += r.leads.length) out.push(r.samples[i]!);
  return out;
}

function errorOf(run: () => unknown): EcgFileError {
  try {
    run();
  } catch (error) {
    if (error instanceof EcgFileError) return error;
    throw error;
  }
  throw new Error('expected an EcgFileError');
}

interface LeadXml {
  code: string;
  origin: string;
  scale: string;
  digits: number[];
  type?: string;
}

const sequence = (l: LeadXml) => `
      <component><sequence>
        <code code="${l.code}" codeSystem="2.16.840.1.113883.6.24"/>
        <value xsi:type="${l.type ?? 'SLIST_PQ'}">
          <origin ${l.origin}/><scale ${l.scale}/>
          <digits>${l.digits.join(' ')}</digits>
        </value>
      </sequence></component>`;

const annotation = (code: string, value: string) => `
        <component><annotation><code code="${code}"/>${value}</annotation></component>`;

/** An aECG document with the structure of the HL7 implementation guide's examples. */
function aecg(
  leads: LeadXml[],
  options: { increment?: string; head?: string; extra?: string } = {},
) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- written by the test -->
<AnnotatedECG xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <effectiveTime><center value="20240102030405"/></effectiveTime>
  <componentOf><timepointEvent><componentOf><subjectAssignment><subject><trialSubject>
    <subjectDemographicPerson><name>Li Lei</name></subjectDemographicPerson>
  </trialSubject></subject></subjectAssignment></componentOf></timepointEvent></componentOf>
  <component><series>
    <code code="RHYTHM" codeSystem="2.16.840.1.113883.5.4"/>
    <component><sequenceSet>
      <component><sequence>
        <code code="TIME_ABSOLUTE" codeSystem="2.16.840.1.113883.5.4"/>
        <value xsi:type="GLIST_TS"><head value="${options.head ?? '20240102030405.000'}"/><increment ${options.increment ?? 'value="2" unit="ms"'}/></value>
      </sequence></component>${leads.map(sequence).join('')}
    </sequenceSet></component>
    <subjectOf><annotationSet>${annotation(
      'MDC_ECG_BEAT',
      `<value xsi:type="CE" code="MDC_ECG_BEAT_NORMAL"/>${annotation(
        'MDC_ECG_TIME_PD_PR',
        '<value xsi:type="PQ" value="999" unit="ms"/>',
      )}`,
    )}${annotation('MDC_ECG_HEART_RATE', '<value xsi:type="PQ" value="72" unit="bpm"/>')}
      ${annotation(
        'MDC_ECG_INTERPRETATION',
        annotation('MDC_ECG_INTERPRETATION_STATEMENT', '<value xsi:type="ST">Sinus rhythm</value>'),
      )}
    </annotationSet></subjectOf>
    <derivation><derivedSeries>
      <code code="REPRESENTATIVE_BEAT" codeSystem="2.16.840.1.113883.5.4"/>
      <component><sequenceSet>${sequence({ code: 'MDC_ECG_LEAD_V6', origin: 'value="0" unit="uV"', scale: 'value="1" unit="uV"', digits: [1, 2, 3] })}</sequenceSet></component>
      <subjectOf><annotationSet>
        ${annotation('MDC_ECG_TIME_PD_PR', '<value xsi:type="PQ" value="0.16" unit="s"/>')}
        ${annotation('MDC_ECG_TIME_PD_QRS', '<value xsi:type="PQ" value="88" unit="ms"/>')}
        ${annotation('MDC_ECG_TIME_PD_QT', '<value xsi:type="PQ" value="380" unit="ms"/>')}
        ${annotation('MDC_ECG_TIME_PD_QTcB', '<value xsi:type="PQ" value="415" unit="ms"/>')}
        ${annotation('MDC_ECG_ANGLE_QRS_FRONT', '<value xsi:type="PQ" value="-15" unit="deg"/>')}
      </annotationSet></subjectOf>
    </derivedSeries></derivation>
    ${options.extra ?? ''}
  </series></component>
</AnnotatedECG>
`;
}

const digitsI = [0, 10, -20, 400, -7, 3, 0, 1];
const digitsII = [5, -5, 100, 200, -300, 0, 2, -1];
const twoLeads: LeadXml[] = [
  {
    code: 'MDC_ECG_LEAD_I',
    origin: 'value="0" unit="uV"',
    scale: 'value="2.5" unit="uV"',
    digits: digitsI,
  },
  // Lead II: 5 µV steps and a 10 µV origin, i.e. 2 × digit + 4 on a 2.5 µV scale.
  {
    code: 'MDC_ECG_LEAD_II',
    origin: 'value="0.01" unit="mV"',
    scale: 'value="5" unit="uV"',
    digits: digitsII,
  },
];

describe('readHl7Aecg on documents built in the test', () => {
  it('puts two leads of different scale and origin on the common scale exactly', () => {
    const r = readHl7Aecg(utf8(aecg(twoLeads)));
    expect(r.format).toBe('hl7-aecg');
    expect(r.leads).toEqual(['I', 'II']);
    expect(r.sampleRateHz).toBe(500);
    expect(r.microvoltsPerLsb).toBe(2.5);
    expect(lead(r, 0)).toEqual(digitsI);
    expect(lead(r, 1)).toEqual(digitsII.map((d) => 2 * d + 4));
    expect(r.startedAt).toBe('2024-01-02T03:04:05');
    expect(r.warnings).toEqual([]);
  });

  it('reads the device measurements but not the per-beat ones, and no patient data', () => {
    const r = readHl7Aecg(utf8(aecg(twoLeads)));
    expect(r.deviceMeasurements).toEqual({
      heartRateBpm: 72,
      prMs: 160,
      qrsMs: 88,
      qtMs: 380,
      qtcMs: 415,
      qrsAxisDeg: -15,
      statements: ['Sinus rhythm'],
    });
    expect(JSON.stringify({ ...r, samples: null })).not.toContain('Li Lei');
  });

  it('reads an increment in seconds, augmented lead names and a zoned start time', () => {
    const r = readHl7Aecg(
      utf8(
        aecg([{ ...twoLeads[0]!, code: 'MDC_ECG_LEAD_AVF' }], {
          increment: 'value="0.001" unit="s"',
          head: '20240102030405.000+0800',
        }),
      ),
    );
    expect(r.leads).toEqual(['aVF']);
    expect(r.sampleRateHz).toBe(1000);
    expect(r.startedAt).toBe('2024-01-01T19:04:05Z');
  });

  it('reads SLIST_INT digits as µV and says so', () => {
    const r = readHl7Aecg(
      utf8(
        aecg([
          {
            code: 'MDC_ECG_LEAD_V1',
            origin: 'value="0"',
            scale: 'value="1"',
            digits: [1, 2],
            type: 'SLIST_INT',
          },
        ]),
      ),
    );
    expect(r.microvoltsPerLsb).toBe(1);
    expect(lead(r, 0)).toEqual([1, 2]);
    expect(r.warnings.join()).toMatch(/SLIST_INT/);
  });

  it('refuses entity declarations instead of expanding them', () => {
    const xml = aecg(twoLeads).replace(
      '<!-- written by the test -->',
      '<!DOCTYPE AnnotatedECG [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>',
    );
    expect(errorOf(() => readHl7Aecg(utf8(xml))).code).toBe('ECG_FILE_INVALID');
  });

  it('refuses a document without a rhythm, a time sequence, or a voltage scale', () => {
    expect(errorOf(() => readHl7Aecg(utf8('<Other/>'))).code).toBe('ECG_FILE_UNRECOGNISED');
    const noTime = aecg(twoLeads).replace(
      /<component><sequence>\s*<code code="TIME_ABSOLUTE"[\s\S]*?<\/component>/,
      '',
    );
    expect(errorOf(() => readHl7Aecg(utf8(noTime))).message).toMatch(/sample rate/);
    const badUnit = aecg([{ ...twoLeads[0]!, scale: 'value="1" unit="mmHg"' }]);
    expect(errorOf(() => readHl7Aecg(utf8(badUnit))).code).toBe('ECG_FILE_INVALID');
    expect(errorOf(() => readHl7Aecg(Uint8Array.from([0xff, 0xfe, 0x00]))).code).toBe(
      'ECG_FILE_INVALID',
    );
  });

  it('reports a cut document as truncated or invalid, at many lengths, never anything else', () => {
    const bytes = utf8(aecg(twoLeads));
    for (let length = 0; length < bytes.length; length += 7) {
      const error = errorOf(() => readHl7Aecg(bytes.subarray(0, length)));
      expect(['ECG_FILE_TRUNCATED', 'ECG_FILE_INVALID', 'ECG_FILE_UNRECOGNISED']).toContain(
        error.code,
      );
    }
    expect(errorOf(() => readHl7Aecg(bytes.subarray(0, bytes.length - 40))).code).toBe(
      'ECG_FILE_TRUNCATED',
    );
  });

  it('answers random byte changes with a recording or an EcgFileError, quickly (fast-check)', () => {
    const seed = utf8(aecg(twoLeads));
    let slowest = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        (changes) => {
          const bytes = seed.slice();
          for (const c of changes) bytes[c.at % bytes.length] = c.value;
          const started = performance.now();
          try {
            const r = readHl7Aecg(bytes);
            expect(r.samples.length % r.leads.length).toBe(0);
          } catch (error) {
            if (!(error instanceof EcgFileError)) throw error;
          }
          slowest = Math.max(slowest, performance.now() - started);
        },
      ),
      { numRuns: 400, seed: 20261208 },
    );
    expect(slowest).toBeLessThan(1000);
  });

  it('converts HL7 TS values, rejecting impossible dates', () => {
    expect(hl7TimeToIso('20021122091000')).toBe('2002-11-22T09:10:00');
    expect(hl7TimeToIso('20021122')).toBe('2002-11-22T00:00:00');
    expect(hl7TimeToIso('20021122091000-0500')).toBe('2002-11-22T14:10:00Z');
    expect(hl7TimeToIso('20021322091000')).toBeNull();
    expect(hl7TimeToIso('yesterday')).toBeNull();
  });
});

describe.skipIf(!existsSync(HL7_FILE))(
  'the aECG example from ../shared/data/ecg-other/hl7-aecg (skipped when that folder is absent)',
  () => {
    it('reads the rhythm series: the leads and samples its sequences hold, 500 Hz, plausible ECG', () => {
      const xml = readFileSync(HL7_FILE, 'utf8');
      const r = readHl7Aecg(new Uint8Array(readFileSync(HL7_FILE)));
      // What the document declares, counted here from its text: the rhythm series' first
      // sequence set (annotations further on name leads too, and so do representative beats).
      const rhythm = xml.slice(0, xml.indexOf('</sequenceSet>'));
      const leadCodes = [...rhythm.matchAll(/code="MDC_ECG_LEAD_(\w+)"/g)].map((m) => m[1]);
      const digitCounts = [...rhythm.matchAll(/<digits>([^<]*)<\/digits>/g)].map(
        (m) => m[1]!.trim().split(/\s+/).length,
      );
      const increment = /<increment value="([\d.]+)" unit="s"\/>/.exec(rhythm)![1]!;
      expect(r.leads.length).toBe(leadCodes.length);
      expect(new Set(digitCounts).size).toBe(1);
      expect(r.samples.length / r.leads.length).toBe(digitCounts[0]);
      expect(r.sampleRateHz).toBeCloseTo(1 / Number(increment), 9);
      const ii = lead(r, r.leads.indexOf('II'));
      const peakToPeakMv = ((Math.max(...ii) - Math.min(...ii)) * r.microvoltsPerLsb) / 1000;
      expect(peakToPeakMv).toBeGreaterThan(0.3);
      expect(peakToPeakMv).toBeLessThan(5);
      const rate = analyzeEcg(r).heartRateBpm;
      expect(rate).toBeGreaterThan(40);
      expect(rate).toBeLessThan(150);
      // The file's own global measurements (those of the representative beat).
      expect(r.deviceMeasurements?.prMs).toBe(148);
      expect(r.deviceMeasurements?.qrsMs).toBe(120);
      expect(r.deviceMeasurements?.qtMs).toBe(420);
      expect(r.deviceMeasurements?.qtcMs).toBe(443);
      expect(r.startedAt).toBe('2002-11-22T09:10:00');
    });
  },
);
