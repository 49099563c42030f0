# part: test
# What the JupyterLab extension's browser tests drive (install/test.d/60-labext.sh): Debian chromium,
# playwright-core without any browser download, and ethers for the injected test wallet.
need_apt chromium
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 need_npm browser playwright-core@1.65.1 ethers@6.17.0
