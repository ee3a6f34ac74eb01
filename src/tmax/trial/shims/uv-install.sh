# Printed by tmax's curl shim in place of the uv installer: link the offline stand-ins.
mkdir -p "${HOME:-/root}/.local/bin"
ln -sf /opt/tmax-verifier/bin/uv "${HOME:-/root}/.local/bin/uv"
ln -sf /opt/tmax-verifier/bin/uvx "${HOME:-/root}/.local/bin/uvx"
printf 'export PATH="%s/.local/bin:$PATH"\n' "${HOME:-/root}" > "${HOME:-/root}/.local/bin/env"
echo "tmax: offline uv stand-in installed to ${HOME:-/root}/.local/bin"
