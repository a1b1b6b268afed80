// "Download SVG" for a plot: the figure's own <svg>, serialized with its namespace and the
// colours it inherits from the page resolved, so the file looks the same outside the dashboard.
import { h } from "./dom.ts";

function standalone(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  const style = getComputedStyle(svg);
  copy.setAttribute("style", `font-family: ${style.fontFamily}; color: ${style.color}`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}`;
}

/** A link that saves `figure`'s plot as `<name>.svg` (built on click, so it is current). */
export function svgDownloadLink(figure: Element, name: string): HTMLAnchorElement {
  const link = h(
    "a",
    { className: "svg-download small", href: "#", download: `${name}.svg`, "data-svg": name },
    "SVG",
  );
  link.addEventListener("click", () => {
    // The plot itself, not a legend swatch: the largest <svg> of the figure.
    const area = (el: SVGSVGElement) =>
      el.getBoundingClientRect().width * el.getBoundingClientRect().height;
    const svg = [...figure.querySelectorAll("svg")].sort((a, b) => area(b) - area(a))[0];
    if (!svg) return;
    const blob = new Blob([standalone(svg)], { type: "image/svg+xml" });
    link.href = URL.createObjectURL(blob);
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  });
  return link;
}
