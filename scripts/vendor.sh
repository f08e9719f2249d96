#!/bin/sh
# Re-fetch the vendored front-end packages from the npm registry (`make vendor`).
# The results are committed: nothing is fetched when the app runs or installs.
#   GOV.UK Frontend        -> inclusion/static/vendor/govuk-frontend/ (CSS built from
#                             scripts/govuk-frontend.scss: system fonts, inclusion's colour)
#   accessible-autocomplete -> inclusion/static/vendor/accessible-autocomplete/
#   signature_pad          -> inclusion/static/vendor/signature_pad/ (signing the loan agreement on screen)
#   axe-core               -> tests/browser/vendor/axe-core/ (only the browser tests load it)
set -eu
GOVUK_FRONTEND=${GOVUK_FRONTEND:-5.14.0}
AUTOCOMPLETE=${AUTOCOMPLETE:-3.0.1}
AXE_CORE=${AXE_CORE:-4.14.1}
SIGNATURE_PAD=${SIGNATURE_PAD:-5.1.4}
SASS=${SASS:-1}

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent \
  "govuk-frontend@$GOVUK_FRONTEND" "accessible-autocomplete@$AUTOCOMPLETE" \
  "axe-core@$AXE_CORE" "signature_pad@$SIGNATURE_PAD" "sass@$SASS"
nm=$tmp/node_modules

out=$root/inclusion/static/vendor/govuk-frontend
rm -rf "$out" && mkdir -p "$out"
npx sass --no-source-map --style=compressed --quiet-deps --silence-deprecation=import \
  --load-path="$nm/govuk-frontend/dist" "$root/scripts/govuk-frontend.scss" "$out/govuk-frontend.min.css"
sed 's,//# sourceMappingURL=.*,,' "$nm/govuk-frontend/dist/govuk/govuk-frontend.min.js" > "$out/govuk-frontend.min.js"
sed -n '/^## Licence/,/^## /p' "$nm/govuk-frontend/README.md" | sed '$d' > "$out/LICENSE"
echo "govuk-frontend $GOVUK_FRONTEND (npm), CSS built with sass from scripts/govuk-frontend.scss" > "$out/VERSION"

out=$root/inclusion/static/vendor/accessible-autocomplete
rm -rf "$out" && mkdir -p "$out"
for f in accessible-autocomplete.min.js accessible-autocomplete.min.css; do
  sed -e 's,/[*]# sourceMappingURL=[^*]*[*]/,,' -e 's,//# sourceMappingURL=.*,,' "$nm/accessible-autocomplete/dist/$f" > "$out/$f"
done
cp "$nm/accessible-autocomplete/LICENSE.txt" "$out/LICENSE"
echo "accessible-autocomplete $AUTOCOMPLETE (npm)" > "$out/VERSION"

out=$root/inclusion/static/vendor/signature_pad
rm -rf "$out" && mkdir -p "$out"
sed 's,//# sourceMappingURL=.*,,' "$nm/signature_pad/dist/signature_pad.umd.min.js" > "$out/signature_pad.umd.min.js"
cp "$nm/signature_pad/LICENSE" "$out/LICENSE"
echo "signature_pad $SIGNATURE_PAD (npm)" > "$out/VERSION"

out=$root/tests/browser/vendor/axe-core
rm -rf "$out" && mkdir -p "$out"
cp "$nm/axe-core/axe.min.js" "$nm/axe-core/LICENSE" "$out/"
echo "axe-core $AXE_CORE (npm); only the browser tests load it" > "$out/VERSION"
echo "vendored: govuk-frontend $GOVUK_FRONTEND, accessible-autocomplete $AUTOCOMPLETE, axe-core $AXE_CORE, signature_pad $SIGNATURE_PAD"
