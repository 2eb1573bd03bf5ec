; Inno Setup 6 script: the FrontDesk desk installer for Windows.
;
; Build on Windows, from the repository root, after the frozen build
; (`make package`, or `pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller
; installers\frontdesk.spec` in the project's venv):
;
;   iscc /DAppVersion=0.1.0 installers\windows\frontdesk.iss
;
; Output: dist\FrontDesk-Setup-0.1.0.exe. Signing (the executables before this step, the
; setup program by Inno Setup's SignTool) is described in installers/README.md.
;
; Installs per user by default (no administrator needed; the front-desk PC's staff account
; can update it), or for all users when started as administrator. The desk's data
; (%LOCALAPPDATA%\frontdesk: replica, outbox, logs) is never removed by uninstalling: it may
; hold check-ins the cloud has not received yet.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z installers\windows\frontdesk.iss
#endif
#define Root "..\.."

[Setup]
AppId={{6C0E3B0C-2F37-4E53-9C1B-5D2B8C7A4F10}
AppName=FrontDesk
AppVersion={#AppVersion}
AppVerName=FrontDesk {#AppVersion}
AppPublisher=FrontDesk
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\FrontDesk
DefaultGroupName=FrontDesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=FrontDesk-Setup-{#AppVersion}
SetupIconFile={#Root}\resources\icons\frontdesk.ico
UninstallDisplayIcon={app}\frontdeskw.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; A running desk holds files open: ask to close it (it quits cleanly; the outbox is kept).
CloseApplications=yes
; Uncomment once a code-signing certificate is configured (installers/README.md):
; SignTool=frontdesk $f
; SignedUninstaller=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
#if FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
Name: "zh_CN"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
; The one-folder bundle: frontdesk.exe (command line), frontdeskw.exe (window, no console)
; and _internal\.
Source: "{#Root}\dist\frontdesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; Files of an older version that this one no longer ships must not linger in _internal\.
[InstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\FrontDesk"; Filename: "{app}\frontdeskw.exe"
Name: "{autodesktop}\FrontDesk"; Filename: "{app}\frontdeskw.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\frontdeskw.exe"; Description: "{cm:LaunchProgram,FrontDesk}"; Flags: nowait postinstall skipifsilent
