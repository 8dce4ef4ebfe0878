/**
 * The walk through an intent's words after its opening: clauses (split at "that",
 * "where"…), each with its verb (keeping, or behaviour the droplet does not have), and
 * in them the noun phrases that are records, fields of the last record, the record it
 * belongs to ("per warehouse"), or circumstances that map to nothing.
 */
import { isValueWord } from './field-kinds.js';
import { isPhraseWord, plural, singular, toPhrase, type NounPhrase } from './phrases.js';
import { PARTICLES, infinitive, type Token } from './tokens.js';
import { MAX_RESOURCES, type IntentReading, type ResourceReading } from './types.js';
import { ATTRIBUTE_MARKERS, BEHAVIOUR_WORDS, CONTAINER_HEADS, OWNER_MARKERS, RESERVED_PATHS, STOP_NOUNS, STORAGE_VERBS } from './vocabulary.js';

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

export class ClauseReader {
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
