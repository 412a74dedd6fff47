/** A shared resource made on first use; a failed attempt is forgotten so the next caller retries. */
export function lazy<T>(make: () => Promise<T>): { get(): Promise<T>; peek(): Promise<T> | undefined; reset(): void } {
  let value: Promise<T> | undefined;
  return {
    get() {
      if (!value) {
        const attempt = make();
        value = attempt;
        attempt.catch(() => {
          if (value === attempt) value = undefined;
        });
      }
      return value;
    },
    peek: () => value,
    reset() {
      value = undefined;
    },
  };
}
