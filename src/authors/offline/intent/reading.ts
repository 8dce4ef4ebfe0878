/**
 * What an intent asks for, as far as a droplet of records can serve it: the thing to
 * build (its subject: "a bookmark service"), the records it keeps (noun phrases that
 * are objects of "store", "track", "for"…), what describes each record ("with tags",
 * "where tasks have a priority (low/medium/high)"), which record belongs to which
 * ("stock levels per warehouse"), and, honestly, what it could not map: behaviour
 * ("fans out messages to email and slack"), names of archetypes ("rate limiter"),
 * nouns beyond the resource limit, and intents it cannot read at all.
 */
import type { IntentCoverage } from '../../../domain/coverage.js';
import { isValueWord } from './field-kinds.js';
import { isEnglish } from './language.js';
import { isPhraseWord, plural, singular, toPhrase, type NounPhrase } from './phrases.js';
import { PARTICLES, infinitive, tokenize, type Token } from './tokens.js';
import {
  ATTRIBUTE_MARKERS,
  BEHAVIOUR_WORDS,
  CONTAINER_HEADS,
  CREATION_VERBS,
  OWNER_MARKERS,
  RESERVED_PATHS,
  STOP_NOUNS,
  STORAGE_VERBS,
} from './vocabulary.js';

export const MAX_RESOURCES = 5;

export interface AttributeReading {
  phrase: NounPhrase;
  /** The record is this value ("a bookmark service that stores *links*"): required. */
  primary: boolean;
}

export interface ResourceReading {
  /** URL segment, kebab-case: `stock-levels`. */
  plural: string;
  /** One record: `stock-level`. */
  singular: string;
  phrase: NounPhrase;
  attributes: AttributeReading[];
  /** Plurals of the resources each record names ("per warehouse" → `warehouses`). */
  owners: string[];
  /** Participles of "recorded at": each becomes a `<word>_at` time. */
  timestamps: string[];
  /**
   * Named only by the droplet's name ("a *library* catalogue") and not yet by anything
   * else in the intent: dropped when the intent names other records and says nothing of it.
   */
  provisional?: boolean;
}

export interface IntentReading {
  /** False for intents the reader cannot read (not English, a single word). */
  readable: boolean;
  /** The thing to build, as named: "bookmark service", "analytics engine". */
  subject: NounPhrase | null;
  /** The first keeping verb and the record it keeps: "tracking my plants" → track, plants. */
  action: { verb: string; resource: ResourceReading } | null;
  resources: ResourceReading[];
  coverage: IntentCoverage;
}

/**
 * What the next noun phrase is: a record kept (`objects`), a field of the last record
 * (`attributes`), the record the last one belongs to (`owner`), or the circumstance of a
 * verb ("recorded at *set times*"), which maps to nothing.
 */
type Mode = 'objects' | 'attributes' | 'owner' | 'circumstance';
/** Articles that make a singular noun countable: "a log", not "performance". */
const ARTICLES = new Set(['a', 'an', 'one', 'each', 'every', 'another']);
const AUXILIARIES = new Set(['be', 'is', 'are', 'was', 'can', 'could', 'should', 'will', 'would', 'may', 'must', 'do', 'does', 'get', 'let', 'allow', 'want', 'need']);

/** `stock-levels`/`stock-level`; a bare singular ("for performance") is a mass noun and stays as written. */
function resourceNames(phrase: NounPhrase, mass: boolean): { plural: string; singular: string } | null {
  const nouns = phrase.nouns.filter((word, index) => index === phrase.nouns.length - 1 || !STOP_NOUNS.has(word)).slice(-2);
  const head = nouns.at(-1);
  if (head === undefined) return null;
  const modifiers = nouns.slice(0, -1).map(singular);
  const names = { singular: [...modifiers, head].join('-'), plural: [...modifiers, mass ? head : plural(head)].join('-') };
  const valid = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(names.plural) && names.plural.length <= 40 && /^[a-z][a-z0-9-]*$/.test(names.singular);
  return valid && !RESERVED_PATHS.has(names.plural) ? names : null;
}

interface Clause {
  tokens: Token[];
  verb: string | null;
  behaviour: boolean;
  /** Where the behaviour starts in `tokens`: its verb, and the words just before it that are its subject. */
  behaviourAt: number;
  /** A preposition came after the verb: what follows belongs to the verb's circumstances. */
  afterPreposition: boolean;
}

const newClause = (): Clause => ({ tokens: [], verb: null, behaviour: false, behaviourAt: 0, afterPreposition: false });
const clauseText = (tokens: readonly Token[]): string =>
  tokens.map((token) => (token.options ? `${token.text} (${token.options.join('/')})` : token.text)).join(' ').toLowerCase();

class IntentReader {
  readonly resources: ResourceReading[] = [];
  readonly covered: string[] = [];
  readonly notCovered: string[] = [];
  /** Phrases too general to keep ("data", "things"): reported only when nothing else is. */
  readonly ignored: string[] = [];
  action: IntentReading['action'] = null;
  private last: ResourceReading | null = null;
  private mode: Mode = 'objects';
  private clause = newClause();
  private buffer: Token[] = [];
  /** The phrase in the buffer came after "a", "an", "each"…: a countable noun. */
  private articled = false;

  /** The subject names the records it keeps when its head is a container: "a *recipe* catalogue". */
  takeSubject(subject: NounPhrase): NounPhrase | null {
    if (subject.words.some((word) => BEHAVIOUR_WORDS.has(word))) {
      this.notCovered.push(subject.text);
      return null;
    }
    const head = subject.words.at(-1)!;
    const modifiers = subject.nouns.slice(0, -1).filter((word) => !STOP_NOUNS.has(word));
    if (CONTAINER_HEADS.has(head) && modifiers.length > 0) {
      const kept = this.addResource({ ...subject, words: modifiers, nouns: modifiers, text: subject.text, adjectives: [] }, null, {});
      if (kept) kept.provisional = true;
      return null;
    }
    if (CONTAINER_HEADS.has(head)) return null;
    // "Parking Finder", "Book Club": the records it keeps, if nothing else in the intent names them.
    return { ...subject, nouns: modifiers.length > 0 ? modifiers : [head], words: modifiers.length > 0 ? modifiers : [head] };
  }

  read(tokens: readonly Token[]): void {
    for (let index = 0; index < tokens.length; index += 1) index += this.take(tokens, index);
    this.flush();
    this.closeClause();
  }

  /** Reads the token at `index`; answers how many tokens after it it read too. */
  private take(tokens: readonly Token[], index: number): number {
    const token = tokens[index]!;
    const next = tokens[index + 1];
    const previous = tokens[index - 1];
    if (this.mode === 'circumstance' && token.kind !== 'relative' && token.kind !== 'conjunction') {
      // "recorded at *set times*": the words of when, up to the end of the phrase, map to nothing.
      this.clause.tokens.push(token);
      if (token.breakAfter) this.mode = 'objects';
      return 0;
    }
    if (isPhraseWord(token, next, previous) || (token.kind === 'participle' && next?.kind === 'noun' && !token.breakAfter)) {
      this.clause.tokens.push(token);
      if (this.buffer.length === 0) this.articled = ARTICLES.has(previous?.word ?? '');
      this.buffer.push(token);
      if (token.breakAfter) this.flush();
      if (token.colonAfter && this.last) this.mode = 'attributes';
      return 0;
    }
    this.flush();
    if (token.kind === 'relative') {
      this.closeClause();
      return 0;
    }
    this.clause.tokens.push(token);
    if (token.kind === 'participle' && next?.word === 'at') {
      this.timestamp(token.word);
      this.clause.tokens.push(next);
      return 1;
    }
    if (['verb', 'participle', 'gerund'].includes(token.kind)) this.onVerb(token.word);
    else if (token.kind === 'preposition' || token.kind === 'conjunction') {
      // ", and" ends a list of fields ("with a website and an email, and stock levels…").
      if (this.mode === 'circumstance' || (this.mode === 'attributes' && token.word === 'and' && previous?.breakAfter)) this.mode = 'objects';
      this.onMarker(token.word);
    }
    if (token.breakAfter && this.mode !== 'attributes') this.mode = 'objects';
    return 0;
  }

  private onVerb(word: string): void {
    if (ATTRIBUTE_MARKERS.has(word)) {
      this.mode = this.last ? 'attributes' : 'objects';
      return;
    }
    if (PARTICLES.has(word) && this.clause.verb) return;
    const verb = infinitive(word);
    this.mode = 'objects';
    this.clause.afterPreposition = false;
    if (AUXILIARIES.has(word) || AUXILIARIES.has(verb)) return;
    this.clause.verb ??= verb;
    if (!STORAGE_VERBS.has(verb) && !this.clause.behaviour) {
      this.clause.behaviour = true;
      // The verb was pushed last; its subject ("other droplets call…", "people I lend…") stays with it.
      let at = this.clause.tokens.length - 1;
      while (at > 0 && ['noun', 'adjective', 'pronoun', 'determiner'].includes(this.clause.tokens[at - 1]!.kind)) at -= 1;
      this.clause.behaviourAt = at;
    }
  }

  private onMarker(word: string): void {
    if (word === 'and' || word === 'or' || word === 'nor') return;
    if (ATTRIBUTE_MARKERS.has(word)) this.mode = this.last ? 'attributes' : 'objects';
    else if (OWNER_MARKERS.has(word)) this.mode = this.last ? 'owner' : 'objects';
    else if (word !== 'of') {
      this.mode = 'objects';
      if (this.clause.verb) this.clause.afterPreposition = true;
    }
  }

  private timestamp(participle: string): void {
    const target = this.last;
    if (!target || ['created', 'updated'].includes(participle)) return;
    if (!target.timestamps.includes(participle)) target.timestamps.push(participle);
    this.covered.push(`${participle} at`);
    this.mode = 'circumstance';
  }

  private flush(): void {
    const phrase = this.buffer.length > 0 ? toPhrase(this.buffer) : null;
    this.buffer = [];
    if (phrase) this.place(phrase);
  }

  private place(phrase: NounPhrase): void {
    if (this.mode === 'circumstance' || (this.clause.behaviour && this.clause.afterPreposition)) return;
    const head = phrase.words.at(-1)!;
    if (this.mode === 'owner' && this.last && phrase.nouns.length > 0) {
      this.own(this.last, phrase);
    } else if (this.last && (this.mode === 'attributes' || phrase.nouns.length === 0 || isValueWord(head))) {
      const primary = this.mode === 'objects' && !this.clause.behaviour && this.last.attributes.every((attribute) => !attribute.primary);
      this.attach(this.last, phrase, primary);
    } else if (phrase.nouns.length === 0) {
      this.ignored.push(phrase.text);
    } else if (STOP_NOUNS.has(head) || !this.addResource(phrase, this.clause.verb, { mass: !phrase.plural && !this.articled })) {
      this.ignored.push(phrase.text);
    }
  }

  private own(owned: ResourceReading, phrase: NounPhrase): void {
    if (isValueWord(phrase.words.at(-1)!)) return;
    const owner = this.addResource(phrase, null, { becomesLast: false, cover: false });
    if (!owner || owner === owned || owned.owners.includes(owner.plural)) return;
    owned.owners.push(owner.plural);
    const at = this.covered.indexOf(owned.phrase.text);
    const text = `${owned.phrase.text} per ${phrase.text}`;
    if (at === -1) this.covered.push(text);
    else this.covered[at] = text;
  }

  private attach(resource: ResourceReading, phrase: NounPhrase, primary: boolean): void {
    if (phrase.words.join(' ') === resource.phrase.words.join(' ')) return;
    resource.provisional = false;
    resource.attributes.push({ phrase, primary });
    this.covered.push(phrase.options ? `${phrase.text} (${phrase.options.join('/')})` : phrase.text);
  }

  /** The resource the phrase names, added if new and room is left; null when it cannot be one. */
  private addResource(phrase: NounPhrase, verb: string | null, how: { becomesLast?: boolean; mass?: boolean; cover?: boolean }): ResourceReading | null {
    const names = resourceNames(phrase, how.mass ?? false);
    if (!names) return null;
    let resource = this.resources.find((known) => known.singular === names.singular) ?? null;
    if (!resource) {
      if (this.resources.filter((known) => !known.provisional).length >= MAX_RESOURCES) {
        this.notCovered.push(phrase.text);
        return null;
      }
      resource = { ...names, phrase, attributes: [], owners: [], timestamps: [] };
      this.resources.push(resource);
      if (how.cover ?? true) this.covered.push(phrase.text);
    } else {
      resource.provisional = false;
    }
    if (how.becomesLast ?? true) this.last = resource;
    if (!this.action && verb && STORAGE_VERBS.has(verb)) this.action = { verb, resource };
    return resource;
  }

  private closeClause(): void {
    if (this.clause.behaviour && this.clause.tokens.length > 0) this.notCovered.push(clauseText(this.clause.tokens.slice(this.clause.behaviourAt)));
    this.clause = newClause();
    this.mode = 'objects';
  }

  /**
   * Records named only by the droplet's name go when others are named and nothing was
   * said of them; one that stays may leave one resource too many, the last, uncovered.
   */
  dropProvisional(): void {
    const drop = (resource: ResourceReading, reason: 'unneeded' | 'over the limit'): void => {
      this.resources.splice(this.resources.indexOf(resource), 1);
      for (const other of this.resources) other.owners = other.owners.filter((owner) => owner !== resource.plural);
      const at = this.covered.findIndex((text) => text === resource.phrase.text || text.startsWith(`${resource.phrase.text} per `));
      if (at !== -1) this.covered.splice(at, 1);
      if (reason === 'over the limit') this.notCovered.unshift(resource.phrase.text);
    };
    if (!this.resources.every((resource) => resource.provisional)) {
      for (const resource of this.resources.filter((candidate) => candidate.provisional)) drop(resource, 'unneeded');
    }
    while (this.resources.length > MAX_RESOURCES) drop(this.resources.at(-1)!, 'over the limit');
  }

  /** When nothing named a record, the subject's own words do ("Book Club" → books). */
  fallBackTo(subject: NounPhrase | null, subjectText: string): void {
    if (this.resources.length === 0 && subject && this.addResource(subject, null, {})) {
      this.covered[this.covered.length - 1] = subjectText;
    }
  }
}

/** Verbs an intent may open with to say what the droplet keeps. */
const IMPERATIVES = new Set(['log', 'track', 'record', 'store', 'manage', 'keep', 'collect', 'save', 'catalog', 'catalogue']);

/** Leading words that ask for a droplet ("Build me a…") and the subject after them. */
function opening(tokens: readonly Token[]): { subject: NounPhrase | null; rest: number } {
  let at = 0;
  while (at < tokens.length && (CREATION_VERBS.has(tokens[at]!.word) || ['determiner', 'pronoun'].includes(tokens[at]!.kind))) at += 1;
  const first = tokens[at];
  // "Log workouts…", "Track expenses…": an imperative compromise may take for a noun.
  if (at === 0 && first && IMPERATIVES.has(first.word) && ['noun', 'adjective', 'determiner', 'pronoun'].includes(tokens[1]?.kind ?? '')) first.kind = 'verb';
  // "Track warehouses…": the intent starts with what the droplet does, not with its name.
  // ("Service to store…", "App for…": compromise may read a leading noun as an imperative.)
  const named = first?.kind === 'verb' && CONTAINER_HEADS.has(first.word) && ['preposition', 'conjunction', 'relative'].includes(tokens[at + 1]?.kind ?? '');
  if (at === 0 && first?.kind === 'verb' && !named) return { subject: null, rest: 0 };
  if (named) first.kind = 'noun';
  let end = at;
  while (end < tokens.length && isPhraseWord(tokens[end]!, tokens[end + 1], tokens[end - 1]) && !(end > at && tokens[end - 1]!.breakAfter)) end += 1;
  return { subject: end > at ? toPhrase(tokens.slice(at, end)) : null, rest: end };
}

const unique = (values: readonly string[]): string[] => [...new Set(values.map((value) => value.trim()).filter(Boolean))];

export function readIntent(intent: string): IntentReading {
  const oneLine = intent.replace(/\s+/g, ' ').trim();
  const tokens = tokenize(oneLine);
  const wordCount = tokens.filter((token) => /[a-z]/.test(token.word)).length;
  if (wordCount < 2 || !isEnglish(oneLine)) {
    return { readable: false, subject: null, action: null, resources: [], coverage: { covered: [], not_covered: oneLine ? [oneLine.slice(0, 200)] : [] } };
  }
  const { subject, rest } = opening(tokens);
  const reader = new IntentReader();
  const fallback = subject ? reader.takeSubject(subject) : null;
  reader.read(tokens.slice(rest));
  reader.dropProvisional();
  if (subject) reader.fallBackTo(fallback, subject.text);
  const unused = reader.resources.length === 0 ? reader.ignored.filter((text) => !reader.notCovered.some((entry) => entry.includes(text))) : [];
  const notCovered = [...reader.notCovered, ...unused];
  if (reader.resources.length === 0 && notCovered.length === 0) notCovered.push(oneLine.slice(0, 200));
  return {
    readable: true,
    subject,
    action: reader.action,
    resources: reader.resources,
    coverage: { covered: unique(reader.covered), not_covered: unique(notCovered) },
  };
}
