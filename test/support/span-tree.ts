import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** The real OpenTelemetry SDK for one test file: an in-memory exporter, and the async-hooks context manager for nesting across awaits. */
export function useTracing(): { provider: BasicTracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    context.disable();
    await provider.shutdown();
  });
  return { provider, exporter };
}

/** A span and the spans whose parent it is, ordered by start time. */
export interface SpanNode {
  span: ReadableSpan;
  children: SpanNode[];
}

const startOf = (span: ReadableSpan) => span.startTime[0] * 1e9 + span.startTime[1];

/** The finished spans as trees: roots are spans whose parent is not among them. */
export function spanForest(spans: readonly ReadableSpan[]): SpanNode[] {
  const nodes = new Map(spans.map((span) => [span.spanContext().spanId, { span, children: [] as SpanNode[] }]));
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanContext ? nodes.get(node.span.parentSpanContext.spanId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const sort = (list: SpanNode[]) => {
    list.sort((a, b) => startOf(a.span) - startOf(b.span));
    for (const node of list) sort(node.children);
  };
  sort(roots);
  return roots;
}

/** A tree as nested `[name, children]` pairs (children by start time), with `rename` applied to each name (to replace generated ids). */
export type Shape = [string, Shape[]];
export function shapeOf(node: SpanNode, rename: (name: string) => string = (name) => name): Shape {
  const children = node.children.map((child) => shapeOf(child, rename));
  return [rename(node.span.name), children];
}

/** Every attribute value of every span, as text. */
export function allAttributeText(spans: readonly ReadableSpan[]): string {
  return spans.map((span) => `${span.name} ${JSON.stringify(span.attributes)} ${span.status.message ?? ''}`).join('\n');
}
