/**
 * A small strict XML parser for the tests (no dependency): elements, attributes, text,
 * comments, CDATA, processing instructions and the predefined and numeric entities. It throws
 * on anything malformed: unclosed or mismatched tags, unquoted or repeated attributes, unknown
 * entities, a bare `<` or `&`, text outside the single root element.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

function decodeEntities(s: string, at: number): string {
  return s.replace(/&([^;&<]*);|&/g, (m, body: string | undefined) => {
    if (body === undefined) throw new Error(`bare & near offset ${at}`);
    if (body === "lt") return "<";
    if (body === "gt") return ">";
    if (body === "amp") return "&";
    if (body === "quot") return '"';
    if (body === "apos") return "'";
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(body);
    if (num) return String.fromCodePoint(num[1][0] === "x" ? parseInt(num[1].slice(1), 16) : Number(num[1]));
    throw new Error(`unknown entity ${m} near offset ${at}`);
  });
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (msg: string): never => {
    throw new Error(`XML: ${msg} at offset ${i}: ${JSON.stringify(src.slice(i, i + 40))}`);
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) fail("expected a name");
    i += m![0].length;
    return m![0];
  };
  const space = (): void => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  while (i < src.length) {
    if (src.startsWith("<?", i)) {
      const end = src.indexOf("?>", i);
      if (end < 0) fail("unterminated processing instruction");
      i = end + 2;
    } else if (src.startsWith("<!--", i)) {
      const end = src.indexOf("-->", i);
      if (end < 0) fail("unterminated comment");
      i = end + 3;
    } else if (src.startsWith("<![CDATA[", i)) {
      const end = src.indexOf("]]>", i);
      if (end < 0 || stack.length === 0) fail("CDATA outside an element or unterminated");
      stack[stack.length - 1].text += src.slice(i + 9, end);
      i = end + 3;
    } else if (src.startsWith("<!DOCTYPE", i)) {
      const end = src.indexOf(">", i);
      i = end + 1;
    } else if (src.startsWith("</", i)) {
      i += 2;
      const n = name();
      space();
      if (src[i] !== ">") fail("expected > after a closing tag");
      i++;
      const open = stack.pop();
      if (!open || open.name !== n) fail(`closing </${n}> does not match <${open?.name ?? "nothing"}>`);
      if (stack.length === 0) root = open;
    } else if (src[i] === "<") {
      i++;
      const el: XmlElement = { name: name(), attrs: {}, children: [], text: "" };
      if (stack.length === 0 && root) fail("a second root element");
      for (;;) {
        const before = i;
        space();
        if (src.startsWith("/>", i)) {
          i += 2;
          if (stack.length) stack[stack.length - 1].children.push(el);
          else root = el;
          break;
        }
        if (src[i] === ">") {
          i++;
          if (stack.length) stack[stack.length - 1].children.push(el);
          stack.push(el);
          break;
        }
        if (before === i) fail("expected whitespace before an attribute");
        const a = name();
        space();
        if (src[i] !== "=") fail(`attribute ${a} without a value`);
        i++;
        space();
        const q = src[i];
        if (q !== '"' && q !== "'") fail(`attribute ${a} value is not quoted`);
        const end = src.indexOf(q, i + 1);
        if (end < 0) fail("unterminated attribute value");
        const raw = src.slice(i + 1, end);
        if (raw.includes("<")) fail(`< inside attribute ${a}`);
        if (a in el.attrs) fail(`repeated attribute ${a}`);
        el.attrs[a] = decodeEntities(raw, i);
        i = end + 1;
      }
    } else {
      const end = src.indexOf("<", i);
      const text = src.slice(i, end < 0 ? src.length : end);
      if (stack.length === 0) {
        if (text.trim() !== "") fail("text outside the root element");
      } else stack[stack.length - 1].text += decodeEntities(text, i);
      i = end < 0 ? src.length : end;
    }
  }
  if (stack.length) throw new Error(`XML: <${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new Error("XML: no root element");
  return root;
}

/** Every element of the tree, depth first. */
export function allElements(el: XmlElement): XmlElement[] {
  return [el, ...el.children.flatMap(allElements)];
}
